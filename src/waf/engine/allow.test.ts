import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import type { WafRequest, WafResponse } from '../request.js';

const request = (uri: string): WafRequest => ({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'example.test']], body: undefined, remoteAddr: '192.0.2.1' });
const response: WafResponse = { status: 200, protocol: 'HTTP/1.1', headers: [['Content-Type', 'text/plain']], body: Buffer.from('ok') };

/** The ids of the logged rules over all five phases, for a request whose `a` picks the allow. */
function run(allow: string): number[] {
  const engine = WafEngine.fromSecLang(`
SecRule ARGS:a "@streq go" "id:1,phase:1,${allow},log"
SecAction "id:2,phase:1,pass,log"
SecAction "id:3,phase:2,pass,log"
SecAction "id:4,phase:3,pass,log"
SecAction "id:5,phase:4,deny,status:403,log"
SecAction "id:6,phase:5,pass,log"
`);
  const tx = engine.evaluateRequest(request('/?a=go'));
  engine.parkForResponse(tx);
  engine.evaluateResponse(tx, response);
  engine.evaluateLogging(tx);
  return tx.matches.map((m) => m.id);
}

// ModSecurity's reference manual, `allow`: alone, it skips the rest of the transaction but the
// logging phase; with `phase`, the rest of the current phase; with `request`, the rest of the
// request phases, and the response phases run.
describe('WAF engine allow', () => {
  it('allow alone skips every phase but logging, the response deny included', () => {
    expect(run('allow')).toEqual([1, 6]);
  });

  it('allow:request skips the request phases only', () => {
    expect(run('allow:request')).toEqual([1, 4, 5, 6]);
  });

  it('allow:phase skips the rest of its phase only', () => {
    expect(run('allow:phase')).toEqual([1, 3, 4, 5, 6]);
  });

  it('refuses an allow with another scope at load: the rule is reported and not loaded', () => {
    const engine = WafEngine.fromSecLang('SecAction "id:1,phase:1,allow:everything,log"');
    expect(engine.ruleSet.problems.join('\n')).toMatch(/bad allow "everything"/);
    expect(engine.evaluateRequest(request('/')).matches).toEqual([]);
  });
});

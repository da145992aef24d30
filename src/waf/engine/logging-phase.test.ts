import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import type { WafRequest, WafResponse } from '../request.js';

const request = (uri: string): WafRequest => ({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'example.test']], body: undefined, remoteAddr: '192.0.2.1' });
const response: WafResponse = { status: 200, protocol: 'HTTP/1.1', headers: [['Content-Type', 'text/plain']], body: Buffer.from('ok') };

// Phase 5 (logging) as ModSecurity runs it: after whatever phases 1-4 decided, never deciding itself.
const engine = WafEngine.fromSecLang(`
SecRule ARGS:a "@streq block" "id:1,phase:1,deny,status:403,msg:'blocked'"
SecRule ARGS:a "@streq allow" "id:2,phase:1,allow,msg:'allowed'"
SecAction "id:3,phase:2,pass,log,setvar:tx.score=+5"
SecAction "id:4,phase:4,pass,log,setvar:tx.score=+1"
SecAction "id:50,phase:5,pass,log,msg:'score %{tx.score}'"
SecRule TX:score "@ge 6" "id:51,phase:5,deny,status:403,msg:'late deny'"
SecAction "id:52,phase:5,pass,log,msg:'after the deny'"
`);

/** Phases 1-4 as the gateway runs them (the response only when the request passed), then phase 5. */
function exchange(uri: string) {
  const tx = engine.evaluateRequest(request(uri));
  if (tx.interruption === undefined) engine.evaluateResponse(tx, response);
  const beforeLogging = tx.matches.map((m) => m.id);
  engine.evaluateLogging(tx);
  return { tx, beforeLogging, ids: tx.matches.map((m) => m.id) };
}

describe('WAF engine logging phase (5)', () => {
  it('runs only when asked, after the other phases: its rules read what they left', () => {
    const { tx, beforeLogging, ids } = exchange('/?a=clean');
    expect(beforeLogging).toEqual([3, 4]);
    expect(ids).toEqual([3, 4, 50, 51, 52]);
    expect(tx.matches.find((m) => m.id === 50)!.msg).toBe('score 6');
  });

  it('runs on a request blocked in phase 1 and leaves its interruption as it was', () => {
    const { tx, beforeLogging, ids } = exchange('/?a=block');
    expect(beforeLogging).toEqual([1]);
    expect(ids).toEqual([1, 50, 52]);
    expect(tx.interruption).toEqual({ ruleId: 1, status: 403, action: 'deny' });
  });

  it('runs on a request an allow let through, whose other phases did not run', () => {
    const { tx, ids } = exchange('/?a=allow');
    // A plain allow skips phases 2-4 (allow.test.ts); the logging phase runs.
    expect(ids).toEqual([2, 50, 52]);
    expect(tx.matches.find((m) => m.id === 50)!.msg).toBe('score ');
    expect(tx.interruption).toBeUndefined();
  });

  it('a deny in phase 5 neither interrupts the exchange nor stops the phase', () => {
    const { tx, ids } = exchange('/?a=clean');
    expect(ids).toContain(51);
    expect(ids.at(-1)).toBe(52);
    expect(tx.interruption).toBeUndefined();
  });
});

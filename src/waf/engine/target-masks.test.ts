import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import type { WafRequest } from '../request.js';

const request = (uri: string, cookie?: string, userAgent?: string): WafRequest => ({
  method: 'GET',
  uri,
  protocol: 'HTTP/1.1',
  headers: [['Host', 'example.test'], ...(cookie ? ([['Cookie', cookie]] as [string, string][]) : []), ...(userAgent ? ([['user-AGENT', userAgent]] as [string, string][]) : [])],
  body: undefined,
  remoteAddr: '192.0.2.1',
});

// Rules on variables a request may lack, in the shapes that must not be skipped wrongly: a negated
// operator, a count, a SecAction, a chain whose head reads a present variable, an absent scalar,
// a header by name (its own key bit) and a mix of keys.
const engine = WafEngine.fromSecLang(`
SecRule ARGS "!@rx ^ok$" "id:1,phase:1,pass,log"
SecRule &ARGS "@eq 0" "id:2,phase:1,pass,log"
SecAction "id:3,phase:1,pass,log"
SecRule REQUEST_COOKIES|ARGS_NAMES "@rx ." "id:4,phase:1,pass,log"
SecRule REQUEST_FILENAME "@rx ." "id:5,phase:1,pass,log,chain"
  SecRule ARGS "@rx evil" "t:none"
SecRule REQUEST_BODY "!@rx x" "id:6,phase:2,pass,log"
SecRule ARGS:a "@rx ." "id:7,phase:2,pass,log"
SecRule REQUEST_HEADERS:User-Agent "!@rx ^curl" "id:8,phase:1,pass,log"
SecRule REQUEST_HEADERS:Referer|ARGS:b "@rx ." "id:9,phase:1,pass,log"
`);

const ids = (req: WafRequest, usePrefilter: boolean) => {
  const tx = engine.newTransaction();
  tx.usePrefilter = usePrefilter;
  return engine.evaluateRequest(req, tx).matches.map((m) => m.id);
};

describe('rules skipped when the variables they read have no value', () => {
  it('masks only rules whose head reads fixed variables, and never a count or a SecAction', () => {
    const { masks, keyMasks } = engine.ruleSet.targetMasks;
    const byId = engine.ruleSet.phases[1]!.map((r, i) => [r.id, masks[1]![i] !== 0, keyMasks[1]![i] !== 0]);
    expect(byId).toEqual([[1, true, false], [2, false, false], [3, false, false], [4, true, false], [5, true, false], [8, false, true], [9, false, true]]);
  });

  it.each([
    ['/', undefined, [2, 3]],
    ['/?x=ok', undefined, [3, 4]],
    ['/?x=no', undefined, [1, 3, 4]],
    ['/?x=evil', undefined, [1, 3, 4, 5]],
    ['/', 'c=1', [2, 3, 4]],
    ['/?a=1', undefined, [1, 3, 4, 7]],
    ['/', undefined, [2, 3, 8], 'Mozilla/5.0'],
    ['/', undefined, [2, 3], 'curl/8.5'],
    ['/?b=1', undefined, [1, 3, 4, 9]],
  ] as const)('%s (cookie %s) matches %j, as with every rule evaluated', (uri, cookie, expected, userAgent?: string) => {
    expect(ids(request(uri, cookie, userAgent), true)).toEqual(expected);
    expect(ids(request(uri, cookie, userAgent), false)).toEqual(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import { BudgetExceededError } from './evaluate.js';
import type { WafRequest } from '../request.js';

const request = (uri: string): WafRequest => ({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'example.test']], body: undefined, remoteAddr: '192.0.2.1' });

/**
 * TX checks in every shape the inline path takes: each comparison, negation, a count, a missing
 * variable, a non-numeric value (atoi: 0), MATCHED_VAR after the match, and a chain whose head is one.
 * `operand(n)` writes the right-hand side: a literal (inline path) or a macro holding the same
 * number (the general path, which cannot read a macro operand at compile time).
 */
const rules = (operand: (n: number) => string) => `
SecRule ARGS:level "@rx ^(.*)$" "id:1,phase:1,pass,nolog,capture,setvar:tx.level=%{TX.1}"
SecRule ARGS:flag "@rx ." "id:2,phase:1,pass,nolog,setvar:tx.flag=on"
SecAction "id:3,phase:1,pass,nolog,setvar:tx.two=2,setvar:tx.zero=0,setvar:tx.three=3"
SecRule TX:level "@lt ${operand(2)}" "id:10,phase:1,pass,log,msg:'lt %{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule TX:level "@le ${operand(2)}" "id:11,phase:1,pass,log"
SecRule TX:level "@eq ${operand(2)}" "id:12,phase:1,pass,log"
SecRule TX:level "@ge ${operand(3)}" "id:13,phase:1,pass,log"
SecRule TX:level "@gt ${operand(2)}" "id:14,phase:1,pass,log"
SecRule TX:level "!@eq ${operand(0)}" "id:15,phase:1,pass,log"
SecRule &TX:flag "@eq ${operand(0)}" "id:16,phase:1,pass,log,msg:'%{MATCHED_VAR_NAME}'"
SecRule &TX:missing "!@eq ${operand(0)}" "id:17,phase:1,pass,log"
SecRule TX:level "@ge ${operand(0)}" "id:18,phase:2,pass,log,chain"
  SecRule &TX:flag "@eq ${operand(1)}" "setvar:tx.chained=yes"
SecRule TX:chained "@streq yes" "id:19,phase:2,pass,log"
`;
const literal = WafEngine.fromSecLang(rules((n) => String(n)));
const viaMacro = WafEngine.fromSecLang(rules((n) => `%{tx.${['zero', 'one', 'two', 'three'][n]}}`).replace('setvar:tx.zero=0,', 'setvar:tx.zero=0,setvar:tx.one=1,'));

const outcome = (engine: WafEngine, uri: string) => {
  const tx = engine.evaluateRequest(request(uri));
  return { matches: tx.matches.map((m) => [m.id, m.msg]), chained: tx.getTx('chained') };
};

describe('TX checks evaluated inline', () => {
  it('compiles literal comparisons on TX:name and &TX:name as TX checks, and nothing else', () => {
    const checks = literal.ruleSet.phases[1]!.filter((r) => r.txCheck !== undefined).map((r) => r.id);
    expect(checks).toEqual([10, 11, 12, 13, 14, 15, 16, 17]);
    expect(viaMacro.ruleSet.phases[1]!.some((r) => r.txCheck !== undefined)).toBe(false);
    const others = WafEngine.fromSecLang(`
SecRule TX:a "@lt 2" "id:1,phase:1,pass,t:length"
SecRule TX:/^a/ "@lt 2" "id:2,phase:1,pass"
SecRule TX:a|ARGS "@lt 2" "id:3,phase:1,pass"
SecRule TX|!TX:b "@lt 2" "id:4,phase:1,pass"
SecRule ARGS:a "@lt 2" "id:5,phase:1,pass"
SecRule TX:a "@lt 2" "id:6,phase:1,pass,multiMatch"`);
    expect(others.ruleSet.phases[1]!.filter((r) => r.txCheck !== undefined)).toEqual([]);
  });

  it.each(['/?level=0', '/?level=1', '/?level=2', '/?level=3', '/?level=7&flag=1', '/?level=abc', '/?flag=1', '/', '/?level=-4&flag=x'])(
    'gives the general path’s matches, messages and TX for %s',
    (uri) => {
      expect(outcome(literal, uri)).toEqual(outcome(viaMacro, uri));
    },
  );

  it('reports what the general path reports', () => {
    expect(outcome(literal, '/?level=1')).toEqual({ matches: [[10, 'lt TX:level=1'], [11, ''], [15, ''], [16, '&TX:flag']], chained: undefined });
    expect(outcome(literal, '/?level=3&flag=1')).toEqual({ matches: [[13, ''], [14, ''], [15, ''], [18, ''], [19, '']], chained: 'yes' });
  });

  it('honours a TX target removed at run time by ctl', () => {
    const engine = WafEngine.fromSecLang(`
SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=9"
SecRule ARGS:quiet "@rx ." "id:2,phase:1,pass,nolog,ctl:ruleRemoveTargetById=10;TX:score"
SecRule TX:score "@ge 5" "id:10,phase:1,pass,log"
SecRule TX:score "@ge 5" "id:11,phase:1,pass,log"`);
    expect(outcome(engine, '/').matches.map(([id]) => id)).toEqual([10, 11]);
    expect(outcome(engine, '/?quiet=1').matches.map(([id]) => id)).toEqual([11]);
  });

  it('spends the operator budget like any operator call', () => {
    const many = Array.from({ length: 50 }, (_, i) => `SecRule TX:n "@lt 9" "id:${100 + i},phase:1,pass,nolog"`).join('\n');
    const engine = WafEngine.fromSecLang(`SecAction "id:1,phase:1,pass,nolog,setvar:tx.n=1"\n${many}`, { maxOperatorCalls: 20, responseBodyLimit: 0 });
    expect(() => engine.evaluateRequest(request('/'))).toThrow(BudgetExceededError);
  });
});

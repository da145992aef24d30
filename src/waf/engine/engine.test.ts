import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import { BudgetExceededError } from './evaluate.js';
import type { WafRequest } from '../request.js';

function request(uri: string, init: { method?: string; headers?: [string, string][]; body?: string } = {}): WafRequest {
  return {
    method: init.method ?? 'GET',
    uri,
    protocol: 'HTTP/1.1',
    headers: [['Host', 'example.test'], ...(init.headers ?? [])],
    body: init.body === undefined ? undefined : Buffer.from(init.body, 'latin1'),
    remoteAddr: '192.0.2.1',
  };
}

const ids = (engine: WafEngine, req: WafRequest) => engine.evaluateRequest(req).matches.map((m) => m.id);

describe('WAF engine rule semantics', () => {
  it('evaluates a chain only when every link matches, and expands macros in messages', () => {
    const engine = WafEngine.fromSecLang(`
SecRule ARGS:a "@rx ^(\\d+)$" "id:10,phase:1,pass,capture,msg:'a is %{TX.1}',chain"
  SecRule ARGS:b "@streq yes" "t:lowercase"`);
    const tx = engine.evaluateRequest(request('/?a=42&b=YES'));
    expect(tx.matches.map((m) => [m.id, m.msg])).toEqual([[10, 'a is 42']]);
    expect(ids(engine, request('/?a=42&b=no'))).toEqual([]);
  });

  it('runs setvar once per matched value, as CRS 921170 counts repeated parameters', () => {
    const engine = WafEngine.fromSecLang(`
SecRule ARGS_NAMES "@rx ." "id:1,phase:1,pass,nolog,setvar:'tx.count_%{MATCHED_VAR}=+1'"
SecRule TX:/^count_/ "@gt 1" "id:2,phase:1,pass,msg:'%{MATCHED_VAR_NAME}'"`);
    const tx = engine.evaluateRequest(request('/?p=1&p=2&q=3'));
    expect(tx.getTx('count_p')).toBe('2');
    expect(tx.matches.filter((m) => m.id === 2).map((m) => m.msg)).toEqual(['TX:count_p']);
  });

  it('skips to the marker after skipAfter, and removes rules with ctl:ruleRemoveById', () => {
    const engine = WafEngine.fromSecLang(`
SecAction "id:1,phase:1,pass,log,ctl:ruleRemoveById=5"
SecRule ARGS:skip "@streq 1" "id:2,phase:1,pass,log,skipAfter:END"
SecAction "id:3,phase:1,pass"
SecMarker END
SecAction "id:4,phase:1,pass"
SecAction "id:5,phase:1,pass"`);
    expect(ids(engine, request('/?skip=1'))).toEqual([1, 2, 4]);
    expect(ids(engine, request('/?skip=0'))).toEqual([1, 3, 4]);
  });

  it('honours target exclusions from the rule, SecRuleUpdateTargetById and ctl:ruleRemoveTargetById', () => {
    const engine = WafEngine.fromSecLang(`
SecRule REQUEST_FILENAME "@beginsWith /login" "id:1,phase:1,pass,log,ctl:ruleRemoveTargetById=30;ARGS:password"
SecRule ARGS|!ARGS:safe "@contains evil" "id:20,phase:2,pass"
SecRule ARGS "@contains evil" "id:30,phase:2,pass"
SecRule ARGS "@contains evil" "id:40,phase:2,pass"
SecRuleUpdateTargetById 40 "!ARGS:/^note/"`);
    expect(ids(engine, request('/x?safe=evil'))).toEqual([30, 40]);
    expect(ids(engine, request('/x?note_1=evil'))).toEqual([20, 30]);
    expect(ids(engine, request('/login?password=evil'))).toEqual([1, 20, 40]);
  });

  it('counts with &, compares numbers, and reads TX set in an earlier phase', () => {
    const engine = WafEngine.fromSecLang(`
SecRule &ARGS "@ge 3" "id:1,phase:1,pass,log,setvar:tx.many=1"
SecRule TX:many "@eq 1" "id:2,phase:2,pass"`);
    expect(ids(engine, request('/?a=1&b=2&c=3'))).toEqual([1, 2]);
    expect(ids(engine, request('/?a=1'))).toEqual([]);
  });

  it('parses JSON bodies into ARGS named json.a.b when a rule selects the JSON processor', () => {
    const engine = WafEngine.fromSecLang(`
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,log,t:lowercase,ctl:requestBodyProcessor=JSON"
SecRule ARGS:json.user.name "@streq bob" "id:2,phase:2,pass"
SecRule ARGS_NAMES "@streq json.tags.1" "id:3,phase:2,pass"`);
    const req = request('/', { method: 'POST', headers: [['Content-Type', 'application/json']], body: '{"user":{"name":"bob"},"tags":["a","b"]}' });
    expect(ids(engine, req)).toEqual([1, 2, 3]);
  });

  it('reads a JSON body of UTF-8 bytes as those bytes, and one of ASCII bytes as is', () => {
    const engine = WafEngine.fromSecLang(`
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule ARGS_NAMES "@streq json.caf\xc3\xa9" "id:2,phase:2,pass"
SecRule ARGS "@streq \xc3\xa9<" "id:3,phase:2,pass"
SecRule ARGS "@streq plain" "id:4,phase:2,pass"`);
    const json = (body: string) => engine.evaluateRequest(request('/', { method: 'POST', headers: [['Content-Type', 'application/json']], body })).matches.map((m) => m.id);
    // The body's bytes as the engine gets them: `café` and `é` in UTF-8 (latin1 here, one char a byte).
    expect(json('{"caf\xc3\xa9":"\xc3\xa9<"}')).toEqual([2, 3]);
    expect(json('{"caf\\u00e9":"\\u00e9\\u003c"}')).toEqual([2, 3]);
    expect(json('{"name":"plain"}')).toEqual([4]);
    // A byte that is no UTF-8 reaches the rules as sent (the upstream gets it too), and the body is
    // a parse error, as yajl has it: REQBODY_ERROR.
    const raw = WafEngine.fromSecLang(`
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule ARGS "@streq x\xff" "id:5,phase:2,pass"
SecRule REQBODY_ERROR "!@eq 0" "id:6,phase:2,pass"`);
    const body = '{"a":"x\xff"}';
    expect(raw.evaluateRequest(request('/', { method: 'POST', headers: [['Content-Type', 'application/json']], body })).matches.map((m) => m.id)).toEqual([5, 6]);
  });

  it('builds a *_NAMES view only when a rule reads it, by target or by macro', () => {
    const json = (engine: WafEngine) => engine.evaluateRequest(request('/', { method: 'POST', headers: [['Content-Type', 'application/json']], body: '{"id":1}' }));
    const select = 'SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"';
    const unread = json(WafEngine.fromSecLang(`${select}\nSecRule ARGS_NAMES "@streq json.id" "id:2,phase:2,pass"`));
    expect(unread.matches.map((m) => m.id)).toEqual([2]);
    expect(unread.collections.has('ARGS_NAMES')).toBe(true);
    expect(unread.collections.has('ARGS_POST_NAMES')).toBe(false);
    const byTarget = json(WafEngine.fromSecLang(`${select}\nSecRule ARGS_POST_NAMES "@streq json.id" "id:3,phase:2,pass"`));
    expect(byTarget.matches.map((m) => m.id)).toEqual([3]);
    const byMacro = json(WafEngine.fromSecLang(`${select}\nSecAction "id:4,phase:2,pass,msg:'%{ARGS_POST_NAMES}'"`));
    expect(byMacro.matches.map((m) => m.msg)).toEqual(['json.id']);
  });

  it('builds ARGS_POST only when a rule reads it or its names, and ARGS holds the body either way', () => {
    const form = (engine: WafEngine) => engine.evaluateRequest(request('/?q=1', { method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'a=1&b=two' }));
    const unread = form(WafEngine.fromSecLang('SecRule ARGS "@streq two" "id:1,phase:2,pass"'));
    expect(unread.matches.map((m) => m.id)).toEqual([1]);
    expect(unread.collections.has('ARGS_POST')).toBe(false);
    expect(unread.collection('ARGS').entries.map((e) => [e.name, e.value])).toEqual([['ARGS:q', '1'], ['ARGS:a', '1'], ['ARGS:b', 'two']]);
    expect(unread.scalars.get('ARGS_COMBINED_SIZE')).toBe(String('q1a1btwo'.length));
    const byTarget = form(WafEngine.fromSecLang(`SecRule ARGS_POST:b "@streq two" "id:2,phase:2,pass"
SecRule &ARGS_POST "@eq 2" "id:3,phase:2,pass"`));
    expect(byTarget.matches.map((m) => m.id)).toEqual([2, 3]);
    expect(byTarget.collection('ARGS_POST').entries.map((e) => e.name)).toEqual(['ARGS_POST:a', 'ARGS_POST:b']);
    const byNames = form(WafEngine.fromSecLang('SecRule ARGS_POST_NAMES "@streq b" "id:4,phase:2,pass"'));
    expect(byNames.matches.map((m) => m.id)).toEqual([4]);
    // The query's names, built in phase 1, are still there in phase 2 beside the body's.
    const queryNames = form(WafEngine.fromSecLang(`SecRule ARGS_GET_NAMES "@streq q" "id:5,phase:1,pass"
SecRule ARGS_GET_NAMES "@streq q" "id:6,phase:2,pass"
SecRule ARGS_GET_NAMES "@streq a" "id:7,phase:2,pass"`));
    expect(queryNames.matches.map((m) => m.id)).toEqual([5, 6]);
  });

  it('flags a malformed JSON body through REQBODY_ERROR', () => {
    const engine = WafEngine.fromSecLang(`
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:2,phase:2,deny,status:400"`);
    const tx = engine.evaluateRequest(request('/', { method: 'POST', headers: [['Content-Type', 'application/json']], body: '{"a":' }));
    expect(tx.interruption).toEqual({ ruleId: 2, status: 400, action: 'deny' });
  });

  it('interrupts on deny when the engine is On, and only records it in DetectionOnly', () => {
    const rules = `SecRule ARGS "@contains attack" "id:1,phase:1,deny,status:403"\nSecAction "id:2,phase:2,pass"`;
    const on = WafEngine.fromSecLang(`SecRuleEngine On\n${rules}`).evaluateRequest(request('/?x=attack'));
    expect(on.interruption?.ruleId).toBe(1);
    expect(on.matches.map((m) => m.id)).toEqual([1]);
    const detect = WafEngine.fromSecLang(`SecRuleEngine DetectionOnly\n${rules}`).evaluateRequest(request('/?x=attack'));
    expect(detect.interruption).toBeUndefined();
    expect(detect.matches.map((m) => m.id)).toEqual([1, 2]);
  });

  it('stops a transaction that spends its operator budget', () => {
    // A pattern with no required literal: the prefilter cannot rule values out, every one is an operator call.
    const engine = WafEngine.fromSecLang('SecRule ARGS "@rx ^\\d{5}$" "id:1,phase:1,pass"', { maxOperatorCalls: 1_000, responseBodyLimit: 0 });
    const uri = '/?' + Array.from({ length: 2_000 }, (_, i) => `a${i}=${i}`).join('&');
    expect(() => engine.evaluateRequest(request(uri))).toThrow(BudgetExceededError);
    // An operator that missed a value is not run again on an equal one: 2,000 equal values cost one call.
    expect(engine.evaluateRequest(request('/?' + Array.from({ length: 2_000 }, (_, i) => `a${i}=1`).join('&'))).matches).toEqual([]);
    // Values the prefilter rules out (no `never` in them) cost no operator call, so no budget.
    const literal = WafEngine.fromSecLang('SecRule ARGS "@rx never" "id:1,phase:1,pass"', { maxOperatorCalls: 1_000, responseBodyLimit: 0 });
    expect(literal.evaluateRequest(request(uri)).matches).toEqual([]);
  });

  it('tests a value equal to one its operator missed again after a match changed what the operator reads', () => {
    // y matches and its setvar changes tx.want to b: z, equal to the x that missed, now matches.
    const engine = WafEngine.fromSecLang(`
SecAction "id:1,phase:1,pass,nolog,setvar:tx.want=a"
SecRule ARGS "@streq %{tx.want}" "id:2,phase:1,pass,nolog,setvar:tx.want=b,setvar:tx.hits=+1"
SecRule TX:hits "@eq 2" "id:3,phase:1,deny"`);
    expect(engine.evaluateRequest(request('/?x=b&y=a&z=b')).interruption?.ruleId).toBe(3);
    expect(engine.evaluateRequest(request('/?x=b&y=c&z=b')).interruption).toBeUndefined();
  });

  it('builds URI variables as ModSecurity does: REQUEST_FILENAME decoded, QUERY_STRING raw', () => {
    const engine = WafEngine.fromSecLang(`
SecRule REQUEST_FILENAME "@streq /a b/c.php" "id:1,phase:1,pass"
SecRule REQUEST_BASENAME "@streq c.php" "id:2,phase:1,pass"
SecRule QUERY_STRING "@streq x=%27" "id:3,phase:1,pass"
SecRule ARGS:x "@streq '" "id:4,phase:1,pass"`);
    expect(ids(engine, request('/a%20b/c.php?x=%27'))).toEqual([1, 2, 3, 4]);
  });

  it('reports rules it cannot compile instead of failing the whole load', () => {
    const engine = WafEngine.fromSecLang('SecRule ARGS "@rbl example.test" "id:1,phase:1,pass"\nSecAction "id:2,phase:1,pass"');
    expect(engine.ruleSet.problems.join('\n')).toMatch(/rule 1.*@rbl is not supported/);
    expect(ids(engine, request('/'))).toEqual([2]);
  });
});

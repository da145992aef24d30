import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import { BudgetExceededError } from './evaluate.js';
import { responseReads } from './park.js';
import type { WafRequest, WafResponse } from '../request.js';

const request: WafRequest = {
  method: 'GET',
  uri: '/items?q=Union%20Select',
  protocol: 'HTTP/1.1',
  headers: [['Host', 'example.test']],
  body: undefined,
  remoteAddr: '192.0.2.1',
};
const response = (body: string): WafResponse => ({ status: 200, protocol: 'HTTP/1.1', headers: [['Content-Type', 'text/html']], body: Buffer.from(body) });

// Phase 1 counts a suspicious argument (logged) and sets a flag (nolog); phase 4 blocks a leak only
// when both the flag and the count from the request phases are there.
const rules = `
SecAction "id:1,phase:1,pass,nolog,setvar:tx.inspect=1"
SecRule ARGS "@rx union select" "id:2,phase:1,pass,log,t:lowercase,msg:'sqli',setvar:tx.score=+5"
SecRule RESPONSE_BODY "@rx sql syntax" "id:3,phase:4,deny,status:403,log,t:lowercase,msg:'leak',chain"
  SecRule TX:inspect "@eq 1" "chain"
    SecRule TX:score "@ge 5"
`;

describe('trimForResponse', () => {
  it('drops the matched values, and the response phases decide as before', () => {
    const engine = WafEngine.fromSecLang(rules);
    const kept = engine.evaluateRequest(request);
    const parked = engine.evaluateRequest(request);
    // The nolog rule 1 matched (its setvar ran, rule 3 needs it) but is not recorded.
    expect(parked.matches.map((m) => m.id)).toEqual([2]);
    expect(parked.matchedVars).not.toEqual([]);

    engine.parkForResponse(parked);
    expect(parked.matchedVars).toEqual([]);
    // No response rule reads a request collection or variable: none is kept.
    expect([...parked.collections.keys()]).toEqual([]);
    expect(parked.scalars.has('REQUEST_URI')).toBe(false);
    expect(parked.matches.map((m) => m.id)).toEqual([2]);
    expect(parked.getTx('score')).toBe('5');

    const leak = response('You have an error in your SQL syntax near');
    engine.evaluateResponse(kept, leak);
    engine.evaluateResponse(parked, leak);
    expect(kept.interruption).toEqual({ ruleId: 3, status: 403, action: 'deny' });
    expect(parked.interruption).toEqual(kept.interruption);
    expect(parked.matches.map((m) => m.id)).toEqual([2, 3]);
  });

  it('lets a clean response through after the trim', () => {
    const engine = WafEngine.fromSecLang(rules);
    const parked = engine.evaluateRequest(request);
    engine.parkForResponse(parked);
    engine.evaluateResponse(parked, response('<p>three items</p>'));
    expect(parked.interruption).toBeUndefined();
  });

  it('keeps what response rules read: targets, and macros in messages, setvars and operators', () => {
    const reading = `
SecRule RESPONSE_BODY "@rx leak" "id:10,phase:4,deny,log,msg:'for %{REQUEST_HEADERS.host}',chain"
  SecRule REQUEST_METHOD "@streq %{ARGS_GET.expected}" "setvar:'tx.who=%{REMOTE_ADDR}'"
SecRule RESPONSE_STATUS "@eq 500" "id:11,phase:3,pass,log,logdata:'%{QUERY_STRING}'"
`;
    const engine = WafEngine.fromSecLang(reading);
    expect([...responseReads(engine.ruleSet)].sort()).toEqual(['ARGS_GET', 'QUERY_STRING', 'REMOTE_ADDR', 'REQUEST_HEADERS', 'REQUEST_METHOD', 'RESPONSE_BODY', 'RESPONSE_STATUS']);
    const req: WafRequest = { ...request, uri: '/items?expected=GET' };
    const kept = engine.evaluateRequest(req);
    const parked = engine.evaluateRequest(req);
    engine.parkForResponse(parked);
    expect([...parked.collections.keys()].sort()).toEqual(['ARGS_GET', 'REQUEST_HEADERS']);
    expect(parked.scalars.has('REQUEST_METHOD') && parked.scalars.has('QUERY_STRING')).toBe(true);
    expect(parked.scalars.has('REQUEST_URI')).toBe(false);
    const leak = { ...response('a leak'), status: 500 };
    engine.evaluateResponse(kept, leak);
    engine.evaluateResponse(parked, leak);
    expect(parked.interruption?.ruleId).toBe(10);
    expect(parked.matches.map((m) => [m.id, m.msg, m.data])).toEqual(kept.matches.map((m) => [m.id, m.msg, m.data]));
    expect(parked.matches.map((m) => [m.id, m.msg, m.data])).toEqual([[11, '', 'expected=GET'], [10, 'for example.test', '']]);
    expect(parked.getTx('who')).toBe('192.0.2.1');
  });

  it('leaves no request value in the engine after a call, also one that ran out of budget', () => {
    const engine = WafEngine.fromSecLang(rules);
    const tx = engine.evaluateRequest(request);
    const cache = tx.cache;
    expect(cache.verdictOffsets.size).toBe(0);
    expect(cache.transformed.every((pairs) => pairs === undefined || pairs.length === 0)).toBe(true);
    expect(cache.transformedMaps.every((m) => m === undefined || m.size === 0)).toBe(true);
    const starved = WafEngine.fromSecLang(rules, { maxOperatorCalls: 0, responseBodyLimit: 1024 });
    let thrown: unknown;
    const txStarved = starved.newTransaction();
    try {
      starved.evaluateRequest(request, txStarved);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BudgetExceededError);
    expect(txStarved.cache.verdictOffsets.size).toBe(0);
    expect(txStarved.cache.verdictsUsed).toBe(0);
  });
});

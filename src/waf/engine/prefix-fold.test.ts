import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import { BudgetExceededError } from './evaluate.js';
import type { WafRequest } from '../request.js';
import { locateTestCrs } from '../ftw/locate.js';
import { CRS_TEST_SETTINGS } from '../ftw/run.js';

const CRS_DIR = locateTestCrs(path.dirname(fileURLToPath(import.meta.url)));

const request = (uri: string, headers: [string, string][] = []): WafRequest => ({
  method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'example.test'], ...headers], body: undefined, remoteAddr: '192.0.2.1',
});

// A setup in the CRS's shape: a data rule first (left to run), SecActions, defaults set when
// missing, a paranoia-level skip, then rules on the request that read what the setup left.
const SETUP = `
SecRule REQUEST_HEADERS:X-Pre "@rx ." "id:10,phase:1,pass,nolog,setvar:tx.pre=1"
SecAction "id:11,phase:1,pass,nolog,setvar:tx.level=2,setvar:tx.score=0"
SecRule &TX:limit "@eq 0" "id:12,phase:1,pass,nolog,setvar:tx.limit=%{tx.level}0"
SecRule &TX:level "@eq 0" "id:13,phase:1,pass,nolog,setvar:tx.level=9"
SecRule TX:level "@lt 3" "id:14,phase:1,pass,nolog,skipAfter:END-SETUP"
SecAction "id:15,phase:1,pass,nolog,setvar:tx.skipped=1"
SecMarker "END-SETUP"
SecRule ARGS "@rx attack" "id:20,phase:1,pass,log,setvar:tx.score=+%{tx.limit}"
SecRule TX:score "@gt 0" "id:21,phase:1,deny,status:403,log"
SecRule TX:pre "@eq 1" "id:22,phase:1,pass,log"
`;

/** TX after the request phases, the matched rule ids and the interruption, with and without the fold. */
function outcome(engine: WafEngine, req: WafRequest, fold: boolean) {
  const tx = engine.newTransaction();
  // usePrefilter off also turns the fold off: the reference evaluation runs every rule.
  tx.usePrefilter = fold;
  engine.evaluateRequest(req, tx);
  return { tx: Object.fromEntries([...tx.tx].map(([k, e]) => [k, [e.name, e.value]])), ids: tx.matches.map((m) => m.id), status: tx.interruption?.status };
}

describe('the CRS setup folded at load', () => {
  const engine = WafEngine.fromSecLang(SETUP);

  it('runs the setup once, following its skips, and stops at the first rule on the request', () => {
    const fold = engine.prefixFold!;
    const rules = engine.ruleSet.phases[1]!;
    expect([rules[fold.start]!.id, rules[fold.end]!.id]).toEqual([11, 20]);
    expect(Object.fromEntries(fold.tx.map(([k, e]) => [k, e.value]))).toEqual({ level: '2', score: '0', limit: '20' });
  });

  it.each([
    ['/', []],
    ['/?q=attack', []],
    ['/?q=fine', [['X-Pre', 'yes']]],
    ['/?q=attack', [['X-Pre', 'yes']]],
  ] as const)('%s with headers %j: the same TX, matches and verdict as evaluating every rule', (uri, headers) => {
    const folded = outcome(engine, request(uri, [...headers] as [string, string][]), true);
    expect(folded).toEqual(outcome(engine, request(uri, [...headers] as [string, string][]), false));
    if (uri.includes('attack')) expect(folded.status).toBe(403);
  });

  it('is not used when a rule before it changed TX: the setup then reads that TX', () => {
    // X-Pre sets tx.pre first: the stretch must run for real (its result would be the same here,
    // but the fold cannot know it); its rules then leave exactly the same TX as the reference.
    const tx = engine.newTransaction();
    engine.evaluateRequest(request('/', [['X-Pre', '1']]), tx);
    expect(tx.getTx('pre')).toBe('1');
    expect(tx.getTx('limit')).toBe('20');
  });

  it('charges the budget as the rules would: exhausted inside the setup, the same error', () => {
    const small = WafEngine.fromSecLang(SETUP, { maxOperatorCalls: 2, responseBodyLimit: 1024 });
    expect(() => small.evaluateRequest(request('/'))).toThrow(BudgetExceededError);
    const tx = small.newTransaction();
    tx.usePrefilter = false;
    expect(() => small.evaluateRequest(request('/'), tx)).toThrow(BudgetExceededError);
  });

  it('replays the rule removals and the engine mode its SecActions set, as the regression suite settings do', () => {
    const withCtl = WafEngine.fromSecLang(SETUP.replace('id:11,phase:1,pass,nolog,', 'id:11,phase:1,pass,nolog,ctl:ruleRemoveById=22,ctl:ruleEngine=DetectionOnly,'));
    expect(withCtl.prefixFold?.removedIds).toEqual([[22, 22]]);
    for (const req of [request('/?q=attack', [['X-Pre', 'yes']]), request('/')]) {
      const folded = outcome(withCtl, req, true);
      expect(folded).toEqual(outcome(withCtl, req, false));
      expect(folded.ids).not.toContain(22);
      expect(folded.status).toBeUndefined();
    }
  });

  it('is not planned over a rule whose match is logged, reads the request, or runs another ctl', () => {
    for (const rule of [
      'SecRule &TX:x "@eq 0" "id:3,phase:1,pass,log,setvar:tx.x=1"',
      'SecAction "id:3,phase:1,pass,nolog,setvar:tx.ip=%{REMOTE_ADDR}"',
      'SecAction "id:3,phase:1,pass,nolog,ctl:forceRequestBodyVariable=On"',
    ]) {
      const e = WafEngine.fromSecLang(`SecAction "id:1,phase:1,pass,nolog,setvar:tx.a=1"\n${rule}\nSecAction "id:4,phase:1,pass,nolog,setvar:tx.b=1"`);
      expect(e.prefixFold, rule).toBeUndefined();
    }
  });
});

// Paranoia-style skips on a name only the setup writes, decided at load for folded transactions.
const DECIDED = `${SETUP}
SecRule ARGS:rm "@rx ." "id:28,phase:1,pass,nolog,ctl:ruleRemoveById=26"
SecRule ARGS:rm24 "@rx ." "id:32,phase:1,pass,nolog,ctl:ruleRemoveById=24"
SecRule TX:level "@lt 2" "id:23,phase:2,pass,nolog,skipAfter:END-PL2"
SecRule ARGS "@rx pl2" "id:24,phase:2,pass,log"
SecMarker "END-PL2"
SecRule TX:level "@lt 3" "id:26,phase:2,pass,nolog,skipAfter:END-PL3"
SecRule ARGS "@rx pl3" "id:27,phase:2,pass,log"
SecMarker "END-PL3"
SecRule TX:score "@ge 0" "id:29,phase:2,pass,log"
SecRule TX:level "@gt 5" "id:30,phase:2,pass,log,chain"
  SecRule ARGS "@rx pl3" ""
SecRule TX:level "@eq 2" "id:31,phase:2,pass,log,chain"
  SecRule ARGS "@rx chained" ""
`;

describe('TX checks decided at load', () => {
  const engine = WafEngine.fromSecLang(DECIDED);
  const decidedIds = (phase: number) => {
    const d = engine.prefixFold!.decisions[phase];
    return engine.ruleSet.phases[phase]!.filter((r, i) => d !== undefined && d.next[i]! >= 0 && r.marker === undefined).map((r) => r.id);
  };

  it('decide the checks on names only the setup writes, and not those on names rules write later', () => {
    // 30 heads a chain and does not match: decided. 31 matches, and its chain reads the request.
    expect(decidedIds(2)).toEqual([23, 26, 30]);
    // tx.pre (rule 10) and tx.score (rule 20) are written outside the setup.
    expect(decidedIds(1)).toEqual([]);
  });

  it.each(['/?q=pl2', '/?q=pl3', '/?q=pl2&rm=1', '/?q=pl3&rm=1', '/?q=pl2&rm24=1', '/?q=pl3&rm24=1', '/?q=attack', '/?q=chained'])('%s: the same TX, matches and verdict as evaluating every rule', (uri) => {
    const folded = outcome(engine, request(uri), true);
    expect(folded).toEqual(outcome(engine, request(uri), false));
  });

  it('jump over a run of decided checks and markers at once, charging what evaluating them would', () => {
    const rules = engine.ruleSet.phases[2]!;
    const d = engine.prefixFold!.decisions[2]!;
    const at = (id: number | string) => rules.findIndex((r) => r.id === id || r.marker === id);
    // Markers are in every phase. END-SETUP, then 23 (level 2 is not < 2: no match, one call): on to 24.
    expect([d.next[at('END-SETUP')], d.cost[at('END-SETUP')]]).toEqual([at(24), 1]);
    // END-PL2, then 26 (2 < 3: skip to END-PL3), then the marker: on to 29, one call, 26's MATCHED_VAR.
    expect([d.next[at('END-PL2')], d.cost[at('END-PL2')]]).toEqual([at(29), 1]);
    expect(d.matchedVar[at('END-PL2')]).toBe(d.matchedVar[at(26)]);
    expect(d.matchedVar[at(26)]?.name).toBe('TX:level');
  });

  // Without arguments, the prefilter changes no operator call: only the fold and the decisions differ.
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('run out of budget where evaluating every rule does (%i operator calls)', (calls) => {
    const starved = WafEngine.fromSecLang(DECIDED, { maxOperatorCalls: calls, responseBodyLimit: 1024 });
    const result = (usePrefilter: boolean) => {
      const tx = starved.newTransaction();
      tx.usePrefilter = usePrefilter;
      try {
        starved.evaluateRequest(request('/'), tx);
        return { ids: tx.matches.map((m) => m.id), budget: tx.budget };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    expect(result(true)).toEqual(result(false));
  });

  it('stand when a ctl removed a rule no jump passes over (as CRS 920539 does in every JSON request)', () => {
    /** The ids evaluateLink ran on: a decided check is jumped over, not evaluated. */
    const evaluated = (uri: string) => {
      const tx = engine.newTransaction();
      tx.profile = new Map();
      engine.evaluateRequest(request(uri), tx);
      return [...tx.profile.keys()];
    };
    expect(evaluated('/?q=pl2')).not.toContain(26);
    // 24 is a rule on the request, not a check on a jump's way: 23 and 26 stay decided.
    expect(evaluated('/?q=pl2&rm24=1')).not.toContain(23);
    expect(evaluated('/?q=pl2&rm24=1')).not.toContain(26);
    // 26 removed: the jump over it is set aside; the one over 23, which does not pass 26, stands.
    expect(evaluated('/?q=pl3&rm=1')).not.toContain(23);
    expect(outcome(engine, request('/?q=pl3&rm=1'), true).ids).toContain(27);
  });

  it('go where evaluation would: the skip taken, or set aside by a rule removal at run time', () => {
    expect(outcome(engine, request('/?q=pl3'), true).ids).not.toContain(27);
    // With rule 26 removed by a ctl, its decided skip must not be taken: 27 runs.
    expect(outcome(engine, request('/?q=pl3&rm=1'), true).ids).toContain(27);
    expect(outcome(engine, request('/?q=pl2'), true).ids).toContain(24);
    expect(outcome(engine, request('/?q=chained'), true).ids).toContain(31);
    expect(outcome(engine, request('/?q=pl3'), true).ids).not.toContain(30);
  });
});

describe.skipIf(CRS_DIR === undefined)('the fold on the CRS', () => {
  it('covers the 901 setup and leaves the TX evaluating it would', () => {
    const engine = WafEngine.fromCrs({ crsDir: CRS_DIR!, settings: CRS_TEST_SETTINGS });
    const fold = engine.prefixFold!;
    expect(fold.end - fold.start).toBeGreaterThan(20);
    // A JSON body: CRS 920539 removes 920540 with a ctl, and the decisions after it must still hold.
    const json = Buffer.from('{"order":"A-1","items":[{"id":1,"note":"x\' or 1=1--"}]}');
    const post: WafRequest = { ...request('/api', [['Content-Type', 'application/json'], ['Content-Length', String(json.length)]]), method: 'POST', body: json };
    for (const req of [request('/'), request('/?id=1%27%20or%201=1--', [['User-Agent', 'sqlmap/1.0']]), post]) {
      expect(outcome(engine, req, true)).toEqual(outcome(engine, req, false));
    }
  });
});

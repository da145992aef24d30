import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import type { Rule } from '../types.js';
import type { WafRequest } from '../request.js';
import { recordOperatorInputs } from '../../../test/helpers/waf-engine.js';

/*
 * multiMatch reads its candidates from the evaluation call's memos (engine/values.ts): a whole
 * collection's per-node arrays, or the per-node maps for a key, a scalar or TX. These tests pin
 * the candidates ModSecurity tests: the value, then its value after each step that changed it.
 */

function request(uri: string, headers: [string, string][] = []): WafRequest {
  return { method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'example.test'], ...headers], body: undefined, remoteAddr: '192.0.2.1' };
}

/** The engine, and the values each rule's operator was called with (by rule id), in order. */
function recording(text: string): { engine: WafEngine; seen: Map<number, string[]> } {
  const engine = WafEngine.fromSecLang(text);
  return { engine, seen: recordOperatorInputs(engine) };
}

function run(engine: WafEngine, req: WafRequest, usePrefilter = true) {
  const tx = engine.newTransaction();
  tx.usePrefilter = usePrefilter;
  engine.evaluateRequest(req, tx);
  return tx.matches.map((m) => [m.id, m.msg]);
}

// `<script` is in `%3Cscript%3E` only after t:urlDecodeUni: t:base64Decode then turns it into bytes.
const DECODE_THEN_MANGLE = 't:urlDecodeUni,t:base64Decode';
const ATTACK = '/x?a=%253Cscript%253E&b=plain&c=%2541';

describe('multiMatch candidates', () => {
  it('matches an attack that only an intermediate step reveals, on a whole collection and on a key', () => {
    const rules = `
SecRule ARGS "@rx <script" "id:1,phase:2,pass,multiMatch,${DECODE_THEN_MANGLE},msg:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule ARGS:a "@rx <script" "id:2,phase:2,pass,multiMatch,${DECODE_THEN_MANGLE},msg:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule ARGS "@rx <script" "id:3,phase:2,pass,${DECODE_THEN_MANGLE}"`;
    for (const usePrefilter of [true, false]) {
      const { engine, seen } = recording(rules);
      // Rule 3, without multiMatch, sees only the last step's value: no match.
      expect(run(engine, request(ATTACK), usePrefilter)).toEqual([
        [1, 'ARGS:a=<script>'],
        [2, 'ARGS:a=<script>'],
      ]);
      // The first candidate that matches ends the entry: base64Decode's value is not tested.
      if (!usePrefilter) expect(seen.get(2)).toEqual(['%3Cscript%3E', '<script>']);
    }
  });

  it('matches through the node memos on a header and on TX', () => {
    const { engine } = recording(`
SecAction "id:1,phase:1,pass,nolog,setvar:tx.probe=%3Cscript%3E"
SecRule REQUEST_HEADERS:X-Probe "@rx <script" "id:2,phase:1,pass,multiMatch,${DECODE_THEN_MANGLE}"
SecRule TX:probe "@rx <script" "id:3,phase:1,pass,multiMatch,${DECODE_THEN_MANGLE}"
SecRule REQUEST_HEADERS:X-Probe|TX:probe "@rx <script" "id:4,phase:1,pass,${DECODE_THEN_MANGLE}"`);
    const matched = run(engine, request('/', [['X-Probe', '%3Cscript%3E']])).map(([id]) => id);
    expect(matched.filter((id) => id !== 1)).toEqual([2, 3]);
  });

  it('tests a value once per step that changed its input, in order, and a step that changes nothing adds no candidate', () => {
    // For `ABC`, lowercase then uppercase both change their input: `ABC` is tested again (the old
    // de-duplication compares each step with its input only). For `x%41y`, the first t:lowercase
    // changes nothing; for `plain`, no step does, though other values of ARGS changed.
    // `^\d+$` matches none of them, and a 1-char match leaves the steps ungated (compile/length-gates.ts).
    const rules = `
SecRule ARGS "@rx ^\\d+$" "id:1,phase:2,pass,multiMatch,t:lowercase,t:urlDecodeUni,t:uppercase"
SecRule ARGS:/^[abc]$/ "@rx ^\\d+$" "id:2,phase:2,pass,multiMatch,t:lowercase,t:urlDecodeUni,t:uppercase"`;
    const expected = ['x%41y', 'xAy', 'XAY', 'plain', 'PLAIN', 'ABC', 'abc', 'ABC'];
    for (const usePrefilter of [true, false]) {
      const { engine, seen } = recording(rules);
      expect(run(engine, request('/x?a=x%2541y&b=plain&c=ABC'), usePrefilter)).toEqual([]);
      expect(seen.get(1)).toEqual(expected);
      expect(seen.get(2)).toEqual(expected);
    }
  });

  it('builds the union over every step, so the prefilter keeps a rule that only an intermediate step can match', () => {
    const rules = `
SecRule ARGS "@rx <script" "id:1,phase:2,pass,multiMatch,${DECODE_THEN_MANGLE}"
SecRule ARGS_NAMES|ARGS "@rx <script" "id:2,phase:2,pass,multiMatch,${DECODE_THEN_MANGLE}"
SecRule REQUEST_HEADERS:X-Probe "@rx <script" "id:3,phase:2,pass,multiMatch,${DECODE_THEN_MANGLE}"`;
    const { engine, seen } = recording(rules);
    const ids = (engine.ruleSet.phases[2] ?? []).map((r: Rule) => r.unionIds.length);
    expect(ids.every((n) => n > 0)).toBe(true);
    expect(run(engine, request(ATTACK, [['X-Probe', '%3Cscript%3E']])).map(([id]) => id)).toEqual([1, 2, 3]);
    // The prefilter ran the operator on nothing but the candidate that holds the literal.
    expect(seen.get(1)).toEqual(['<script>']);
    // No candidate of any value holds `<script`: the union skips each rule without a call.
    const clean = recording(rules);
    expect(run(clean.engine, request('/x?a=%253Cb%253E&b=plain', [['X-Probe', 'x']]))).toEqual([]);
    expect([1, 2, 3].map((id) => clean.seen.get(id)!.length)).toEqual([0, 0, 0]);
  });
});

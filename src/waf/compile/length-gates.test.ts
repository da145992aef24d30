import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WafEngine } from '../engine/waf-engine.js';
import { lookupTransform } from '../transforms/index.js';
import type { Rule } from '../types.js';
import type { WafRequest } from '../request.js';
import { locateTestCrs } from '../ftw/locate.js';
import { CRS_TEST_SETTINGS } from '../ftw/run.js';
import { loadFtwCases } from '../ftw/cases.js';
import { buildFtwRequest } from '../ftw/build-request.js';
import { recordOperatorInputs, ruleLinks as links, stageOutcome as outcome } from '../../../test/helpers/waf-engine.js';

const CRS_DIR = locateTestCrs(path.dirname(fileURLToPath(import.meta.url)));

function request(query: string): WafRequest {
  return { method: 'GET', uri: `/x?${query}`, protocol: 'HTTP/1.1', headers: [['Host', 'example.test']], body: undefined, remoteAddr: '192.0.2.1' };
}

/** The engine, every operator call's input recorded per rule id, and the operator run on all values (no prefilter). */
function recording(text: string) {
  const engine = WafEngine.fromSecLang(text);
  const seen = recordOperatorInputs(engine);
  const run = (query: string) => {
    const tx = engine.newTransaction();
    tx.usePrefilter = false;
    engine.evaluateRequest(request(query), tx);
    return tx.matches.map((m) => `${m.id} ${m.variable}`);
  };
  return { seen, run };
}

/** `anNvbg` decodes to `json` (4 bytes); `ZXZhbCgxKQ` to `eval(1)`; `YQ` to `a`. */
const QUERY = 'short=anNvbg&attack=ZXZhbCgxKQ';

describe('length gates', () => {
  it('a value decoded shorter than every reading rule can match reaches no operator as itself; a long enough one is matched', () => {
    const { seen, run } = recording(`SecRule ARGS "@rx eval\\(" "id:1,phase:2,pass,t:base64Decode,t:urlDecodeUni"`);
    expect(run(QUERY)).toEqual(['1 ARGS:attack']);
    // `eval\(` needs 5 chars: `json` became '' at the base64Decode step.
    expect(seen.get(1)).toEqual(['', 'eval(1)']);
  });

  it('a negated rule on the same chain turns the gate off: it matches what its operator does not', () => {
    const { seen, run } = recording(`SecRule ARGS "@rx eval\\(" "id:1,phase:2,pass,t:base64Decode,t:urlDecodeUni"
SecRule ARGS "!@rx ^json$" "id:2,phase:2,pass,t:base64Decode,t:urlDecodeUni"`);
    // 'json' reaches rule 2 (no match: negated), 'eval(1)' matches both.
    expect(run(QUERY)).toEqual(['1 ARGS:attack', '2 ARGS:attack']);
    expect(seen.get(1)).toEqual(['json', 'eval(1)']);
    expect(seen.get(2)).toEqual(['json', 'eval(1)']);
  });

  it('no gate before a step that can lengthen the value: `a` hex-encoded is `61`', () => {
    const { seen, run } = recording(`SecRule ARGS "@rx ^61$" "id:1,phase:2,pass,t:base64Decode,t:hexEncode"`);
    expect(run('x=YQ')).toEqual(['1 ARGS:x']);
    expect(seen.get(1)).toEqual(['61']);
  });

  it('a multiMatch rule is gated at each step, and still matches at the step that reveals the attack', () => {
    const { seen, run } = recording(`SecRule ARGS "@rx eval\\(" "id:1,phase:2,pass,multiMatch,t:base64Decode,t:urlDecodeUni"`);
    expect(run('short=anNvbg&url=ZXZhbCUyODEp')).toEqual(['1 ARGS:url']);
    // Each value, then its value after each step that changed it: `json` is '' after base64Decode
    // (and stays ''); `eval%281)` is long enough, and urlDecodeUni reveals the attack.
    expect(seen.get(1)).toEqual(['anNvbg', '', 'ZXZhbCUyODEp', 'eval%281)', 'eval(1)']);
  });
});

describe.skipIf(CRS_DIR === undefined)('length gates on the CRS', () => {
  it('gate 934100\'s base64Decode, and change no result of the regression suite: each stage matches the same rules, with the same data, without them', async () => {
    const gated = WafEngine.fromCrs({ crsDir: CRS_DIR!, settings: CRS_TEST_SETTINGS });
    const plain = WafEngine.fromCrs({ crsDir: CRS_DIR!, settings: CRS_TEST_SETTINGS });
    const base64Step = (engine: WafEngine) => links(engine).find((l) => l.id === 934100)!.transformSteps[3]!;
    expect(base64Step(gated).fn).not.toBe(lookupTransform('base64Decode'));
    // Without gates: every step its plain transformation again.
    let ungated = 0;
    for (const link of links(plain)) {
      (link as { transformSteps: Rule['transformSteps'] }).transformSteps = link.transformSteps.map((step, j) => {
        const fn = lookupTransform(link.transformNames[j]!)!;
        if (fn !== step.fn) ungated++;
        return { ...step, fn };
      });
    }
    expect(ungated).toBeGreaterThan(20);
    expect(base64Step(plain).fn).toBe(lookupTransform('base64Decode'));
    const differ: string[] = [];
    let stages = 0;
    let matched = 0;
    for (const c of loadFtwCases(path.join(CRS_DIR!, 'tests', 'regression', 'tests'))) {
      for (const stage of c.stages) {
        const req = buildFtwRequest(stage.input);
        const expected = outcome(plain, req);
        if (outcome(gated, req) !== expected) differ.push(c.name);
        if (expected.includes('934100')) matched++;
        stages++;
      }
      if (stages % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(differ).toEqual([]);
    expect(stages).toBeGreaterThan(4000);
    // 934100's own cases (base64-encoded payloads among them) went through the gated step.
    expect(matched).toBeGreaterThan(10);
  }, 600_000);
});

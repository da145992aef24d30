import { describe, expect, it } from 'vitest';
import { WafEngine } from '../engine/waf-engine.js';
import type { WafRequest } from '../request.js';

// Three rules on ARGS after the same transformations share one union; 4 reads another chain.
const engine = WafEngine.fromSecLang(`
SecRule ARGS "@rx select" "id:1,phase:2,pass,log,t:none,t:lowercase"
SecRule ARGS "@rx union" "id:2,phase:2,pass,log,t:none,t:lowercase"
SecRule ARGS "!@rx union" "id:3,phase:2,pass,log,t:none,t:lowercase"
SecRule ARGS "@rx drop" "id:4,phase:2,pass,log,t:none,t:urlDecodeUni"
SecRule TX:x "@eq 1" "id:5,phase:2,pass,log"
`);

const request = (uri: string): WafRequest => ({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'a.test']], body: undefined, remoteAddr: '192.0.2.1' });

function run(uri: string, usePrefilter: boolean) {
  const tx = engine.newTransaction();
  tx.usePrefilter = usePrefilter;
  tx.profile = new Map();
  engine.evaluateRequest(request(uri), tx);
  return { ids: tx.matches.map((m) => m.id), evaluated: [...tx.profile.keys()] };
}

describe('union plans', () => {
  it('lay out the unions and bits of each prefiltered rule, and none for a negated operator or a TX check', () => {
    const plan = engine.ruleSet.unionPlans[2]!;
    const count = (i: number) => plan.unionStart[i + 1]! - plan.unionStart[i]!;
    expect([0, 1, 2, 3, 4].map(count)).toEqual([1, 1, 0, 1, 0]);
    expect(plan.unionIds[0]).toBe(plan.unionIds[1]);
    expect(plan.unionIds[2]).not.toBe(plan.unionIds[0]);
  });

  it('skip a rule whose known union rules it out without evaluating it, with the same matches', () => {
    // A value no step of the chains acts on: every union is its raw union (t:lowercase changes
    // nothing the case-blind scan sees), known without evaluating 1, 2 or 4; 3 (negated) and 5 always run.
    for (const uri of ['/?q=hello', '/?q=HELLO']) {
      const fast = run(uri, true);
      expect(fast.ids).toEqual([3]);
      expect(fast.evaluated).toEqual([3, 5]);
      expect(run(uri, false).ids).toEqual([3]);
    }
    // `%` wakes t:urlDecodeUni: rule 4's union is computed over the decoded values (`%64rop` is `drop`).
    expect(run('/?q=hello%2541', true).evaluated).toEqual([3, 4, 5]);
    expect(run('/?q=%2564rop', true).ids).toEqual([3, 4]);
    // No arguments at all: no ARGS rule is evaluated (3 has no value to negate: the target masks skip it).
    expect(run('/', true)).toEqual({ ids: [], evaluated: [5] });
  });

  it.each(['/?q=SELECT', '/?q=UNION', '/?q=a%20drop', '/?a=union&b=select', '/'])('%s matches what evaluating every rule matches', (uri) => {
    expect(run(uri, true).ids).toEqual(run(uri, false).ids);
  });
});

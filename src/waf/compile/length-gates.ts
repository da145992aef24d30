import type { OperatorFn, TransformStep } from '../types.js';
import { NEVER_LENGTHENS, gatedTransform } from '../transforms/index.js';

/*
 * Length gates: a transformed value too short for every rule that reads it becomes `''`.
 *
 * The CRS base64-decodes every argument name and value (934100, 934160) and then decodes the
 * result further. An ordinary name (`json.items.12.id`) decodes to three bytes of garbage (the
 * bytes of `json`), and those went through the later steps, the prefilter's scans and the rule
 * walks at every node, for rules whose shortest match is 4 (934100) or 8 (934160) chars. A node's
 * floor is the lowest of the shortest matches of the rule links whose chains pass through it,
 * each counted only where the link's steps after the node never lengthen a value
 * (transforms/index.ts NEVER_LENGTHENS): below the floor, neither the value nor anything the later
 * steps make of it can match any of them. `''` is
 * what every such step leaves empty, and what no such rule matches. A negated link, or an operator
 * with no known bound (@detectSQLi, @validateByteRange, ...), gives its nodes floor 0: no gate.
 *
 * Nothing else reads a transformed value but the operators of those links (captures and MATCHED_VAR
 * come from matches), so the gate changes no verdict, only what the engine computes for none.
 */

/** A rule link as planned (compile/prefilter-plan.ts): its steps are replaced by gated ones. */
export interface GateableLink {
  transformSteps: readonly TransformStep[];
  readonly transformNames: readonly string[];
  readonly operator: OperatorFn;
  readonly negated: boolean;
  readonly marker: string | undefined;
}

/** The shortest input the link matches: a negated operator matches what it does not, so any input may. */
function shortestMatch(link: GateableLink): number {
  return link.negated || link.marker !== undefined ? 0 : (link.operator.minLength ?? 0);
}

/** Per transformation-prefix node (compile/prefilter-plan.ts), the shortest value any link reading through it can match. */
function lengthFloors(links: readonly GateableLink[], nodeCount: number): Int32Array {
  const floors = new Int32Array(nodeCount).fill(0x7fffffff);
  for (const link of links) {
    const { transformSteps: steps, transformNames: names } = link;
    // How long a value at node j must be for the link: its operator's bound while the steps after j never lengthen.
    let bound = shortestMatch(link);
    for (let j = steps.length - 1; j >= 0; j--) {
      const node = steps[j]!.node;
      if (bound < floors[node]!) floors[node] = bound;
      if (!NEVER_LENGTHENS.has(names[j]!.toLowerCase())) bound = 0;
    }
  }
  return floors;
}

/**
 * Gives every step of a transformation its gated form (transforms/index.ts gatedTransform) when
 * each node that transformation leads to has a floor of 2 or more, with the lowest of them. One
 * floor per transformation, not per node: nodes applying one function to the same values share
 * its result (engine/collection-memo.ts transformAll, by function), and per-node gates split them
 * (per node, a 4 KB JSON request cost 3.6% more instructions, not less).
 */
export function gateLinks(links: readonly GateableLink[], nodeCount: number): void {
  const floors = lengthFloors(links, nodeCount);
  const byName = new Map<string, number>();
  for (const link of links) {
    link.transformSteps.forEach((step, j) => {
      const name = link.transformNames[j]!.toLowerCase();
      byName.set(name, Math.min(byName.get(name) ?? 0x7fffffff, floors[step.node]!));
    });
  }
  for (const link of links) {
    link.transformSteps = link.transformSteps.map((step, j) => {
      const name = link.transformNames[j]!.toLowerCase();
      const floor = byName.get(name)!;
      // A floor of 1 drops only `''`, which stays `''`.
      return floor < 2 ? step : { ...step, fn: gatedTransform(name, floor) };
    });
  }
}

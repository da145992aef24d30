import type { Rule } from '../types.js';

/**
 * Per phase, each rule's prefilter unions and bits (Rule.unionIds, Rule.prefilterBits) in flat
 * typed arrays, so that a rule whose every union is known and rules it out is skipped without
 * reading the rule object, its id list or its bit list: in the gateway each of those is a cache
 * miss (the HTTP work between two requests evicts the rule set), and a wrk GET skips ~30 request
 * rules and ~40 response rules (955xxx on RESPONSE_BODY) this way. Rule `i`'s unions are
 * `unionIds[unionStart[i] .. unionStart[i + 1])`, its bits `bits[bitStart[i] .. bitStart[i + 1])`;
 * a rule evaluateLink would not prefilter by unions has none.
 */
export interface UnionPlan {
  readonly unionStart: Int32Array;
  readonly unionIds: Int32Array;
  readonly bitStart: Int32Array;
  /** A plain array like Rule.prefilterBits: hasAllBits reads both (one element kind at its loads). */
  readonly bits: readonly number[];
}

/** The rules evaluateLink asks selectionMayMatch about (engine/evaluate.ts). */
function prefilteredByUnions(rule: Rule): boolean {
  return rule.marker === undefined && rule.txCheck === undefined && rule.targets.length > 0 && rule.prefilterBit >= 0 && rule.unionIds.length > 0;
}

export function planUnions(rules: readonly Rule[]): UnionPlan {
  const unionStart = new Int32Array(rules.length + 1);
  const bitStart = new Int32Array(rules.length + 1);
  const ids: number[] = [];
  const bits: number[] = [];
  rules.forEach((rule, i) => {
    if (prefilteredByUnions(rule)) {
      ids.push(...rule.unionIds);
      bits.push(...rule.prefilterBits);
    }
    unionStart[i + 1] = ids.length;
    bitStart[i + 1] = bits.length;
  });
  return { unionStart, unionIds: Int32Array.from(ids), bitStart, bits };
}

import type { Rule, TxCheck } from '../types.js';

/**
 * The link's TX check, when it is one: a single `TX:name` or `&TX:name` target, no transformation,
 * no exclusion of its own, no multiMatch, and a numeric comparison with a literal (`@lt 2`,
 * `@eq 0`). Those are a third of the links a CRS request evaluates: the paranoia-level skips
 * (`TX:DETECTION_PARANOIA_LEVEL "@lt 2"`), the 901 initialisation (`&TX:x "@eq 0"`) and the
 * anomaly-score checks. engine/evaluate.ts runs them without the selector, memo and operator
 * machinery, with the same result.
 */
export function txCheckOf(rule: Rule): TxCheck | undefined {
  const comparison = rule.operator.comparison;
  if (comparison === undefined || rule.marker !== undefined || rule.targets.length !== 1) return undefined;
  if (rule.exclusions.length !== 0 || rule.transformNames.length !== 0 || rule.multiMatch) return undefined;
  const selector = rule.targets[0]!;
  if (selector.collection !== 'TX' || selector.key === undefined || selector.keyRegex !== undefined) return undefined;
  if (selector.kind !== 'txKey' && !(selector.kind === 'count' && selector.countLists.length > 1)) return undefined;
  const count = selector.kind === 'count';
  return {
    selector,
    key: selector.key,
    count,
    op: comparison.op,
    n: comparison.n,
    zeroEntry: count ? selector.countLists[0]![0] : undefined,
    oneEntry: count ? selector.countLists[1]![0] : undefined,
  };
}

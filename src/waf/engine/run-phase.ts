import { indexAfterMatch, type RuleSet } from '../compile/ruleset.js';
import type { Transaction } from './transaction.js';
import { evaluateLink, LOGGING_PHASE, onMatch } from './evaluate.js';
import { applyFold, canApplyFold, type PrefixFold } from './prefix-fold.js';
import { takeDecision } from './tx-decisions.js';
import { presentBits } from './values.js';
import { unionFromSource } from './unions.js';
import { hasAllBits } from './prefilter.js';
import { UNION_UNKNOWN } from './evaluation-cache.js';
import type { UnionPlan } from '../compile/union-plan.js';

/**
 * One rule of a stretch planned for folding (engine/prefix-fold.ts), as runPhase evaluates it: the
 * next index, or undefined when the rule matched with an effect a fold cannot replay (a log entry,
 * a disruptive action).
 */
export function foldStep(tx: Transaction, ruleSet: RuleSet, phase: number, i: number): number | undefined {
  const rule = ruleSet.phases[phase]![i]!;
  if (rule.marker !== undefined || tx.isRuleRemoved(rule)) return i + 1;
  tx.currentRule = rule;
  tx.clearMatchedVars();
  if (!evaluateLink(tx, rule)) return i + 1;
  if (rule.log || (rule.disruptive !== undefined && rule.disruptive !== 'pass')) return undefined;
  onMatch(tx, rule);
  return indexAfterMatch(ruleSet, phase, i);
}

/**
 * True when every union of rule `i` is known in this phase (or decided by its selector's values
 * alone, see unionFromSource) and holds none of its literals: what selectionMayMatch would say
 * (engine/unions.ts), without reading the rule. An unknown union is left to evaluateLink.
 */
function unionsRuleOut(tx: Transaction, plan: UnionPlan, i: number): boolean {
  const { unionOffsets, verdicts } = tx.cache;
  for (let s = plan.unionStart[i]!; s < plan.unionStart[i + 1]!; s++) {
    const u = plan.unionIds[s]!;
    let offset = unionOffsets[u]!;
    // Unknown, but decided by its selector's values alone (empty, or untouched by the chain).
    if (offset === UNION_UNKNOWN) offset = unionFromSource(tx, u);
    if (offset === UNION_UNKNOWN) return false;
    if (offset >= 0 && hasAllBits(verdicts, offset, plan.bits, plan.bitStart[i]!, plan.bitStart[i + 1]!)) return false;
  }
  return true;
}

/** Runs one phase's rules in order, honouring skip, skipAfter, ctl removals and interruptions. */
export function runPhase(tx: Transaction, ruleSet: RuleSet, phase: number, fold?: PrefixFold): void {
  if (tx.engineMode === 'Off' || (tx.interruption !== undefined && phase !== LOGGING_PHASE)) return;
  if (phase <= tx.allowedThrough) return;
  const rules = ruleSet.phases[phase] ?? [];
  // Off with the prefilter (its equivalence test then checks this skip too).
  const masks = tx.usePrefilter ? ruleSet.targetMasks.masks[phase] : undefined;
  const unions = tx.usePrefilter ? ruleSet.unionPlans[phase] : undefined;
  const keyMasks = ruleSet.targetMasks.keyMasks[phase]!;
  const { names, keys, phaseBits, phaseKeyBits } = ruleSet.targetMasks;
  const present = masks === undefined ? 0 : presentBits(tx, names, phaseBits[phase] ?? 0);
  const keyPresent = masks === undefined ? 0 : presentBits(tx, keys, phaseKeyBits[phase] ?? 0);
  // The populate step before each phase changes the values the cached unions were built from.
  tx.cache.resetUnions();
  // The CRS setup's stretch, replayed when the transaction is where its plan began (prefix-fold.ts);
  // off with the prefilter, so the prefilter's equivalence test compares folded and unfolded runs.
  const foldAt = fold !== undefined && fold.phase === phase && tx.usePrefilter ? fold.start : -1;
  let decisions = fold !== undefined && tx.folded && tx.usePrefilter ? fold.decisions[phase] : undefined;
  let i = 0;
  while (i < rules.length) {
    if (i === foldAt && canApplyFold(tx, fold!)) {
      i = applyFold(tx, fold!);
      decisions = fold!.decisions[phase];
      continue;
    }
    if (decisions !== undefined) {
      // A run of TX checks on names only the setup writes, and markers: where it leads was known
      // at load (tx-decisions.ts).
      const next = takeDecision(tx, decisions, i, rules);
      if (next >= 0) {
        i = next;
        continue;
      }
    }
    if (masks !== undefined) {
      // A rule reading only variables without values cannot match: skipped without reading it.
      const mask = masks[i]!;
      const keyMask = keyMasks[i]!;
      if ((mask | keyMask) !== 0 && (mask & present) === 0 && (keyMask & keyPresent) === 0) {
        i++;
        continue;
      }
    }
    if (unions !== undefined && unions.unionStart[i] !== unions.unionStart[i + 1] && unionsRuleOut(tx, unions, i)) {
      i++;
      continue;
    }
    const rule = rules[i]!;
    if (rule.marker !== undefined || tx.isRuleRemoved(rule)) {
      i++;
      continue;
    }
    tx.currentRule = rule;
    tx.clearMatchedVars();
    const started = tx.profile === undefined ? 0 : performance.now();
    const matched = evaluateLink(tx, rule);
    if (tx.profile !== undefined) tx.profile.set(rule.id, (tx.profile.get(rule.id) ?? 0) + 1000 * (performance.now() - started));
    if (!matched) {
      i++;
      continue;
    }
    onMatch(tx, rule);
    if ((tx.engineMode as string) === 'Off') return;
    if (phase !== LOGGING_PHASE && (tx.interruption !== undefined || phase <= tx.allowedThrough)) return;
    i = indexAfterMatch(ruleSet, phase, i);
  }
}

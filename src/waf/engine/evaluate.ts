import type { Rule, SetVar, VarEntry } from '../types.js';
import type { RuleSet } from '../compile/ruleset.js';
import type { Transaction } from './transaction.js';
import { applyCtl } from './ctl.js';
import { hasAllBits, type Prefilter } from './prefilter.js';
import { collectionMemo, memoizable, multiMatchCandidates, selectionMayMatch, transformedValue, verdictOf } from './values.js';

/** Thrown when a transaction spends its operator budget: the caller decides (block or let through). */
export class BudgetExceededError extends Error {
  constructor(readonly ruleId: number) {
    super(`WAF budget exhausted at rule ${ruleId}`);
    this.name = 'BudgetExceededError';
  }
}

/**
 * A link's non-disruptive actions run for every value it matches (so CRS 921170 counts repeated
 * parameters), right away, before the next link is evaluated (CRS 931130 reads in its chain what
 * its head set): ModSecurity's behaviour.
 */
function runLinkActions(tx: Transaction, rule: Rule): void {
  for (const sv of rule.setvars) applySetVar(tx, sv);
  for (const ctl of rule.ctls) applyCtl(tx, ctl);
}

/** Runs the operator on one value; on a match records it and runs the link's actions. */
function testValue(tx: Transaction, rule: Rule, entry: VarEntry, value: string): boolean {
  if (--tx.budget < 0) throw new BudgetExceededError(rule.id);
  if (rule.operator(tx, value, rule.capture) === rule.negated) return false;
  const hit = { name: entry.name, key: entry.key, value };
  tx.matchedVar = hit;
  tx.matchedVars.push(hit);
  runLinkActions(tx, rule);
  return true;
}

/** Evaluates one link of a chain (and the links after it); true when the whole chain matched. */
function evaluateLink(tx: Transaction, prefilter: Prefilter, rule: Rule): boolean {
  if (rule.targets.length === 0) {
    // SecAction, or a rule whose only targets were removed: ModSecurity runs the operator on nothing.
    if (rule.operatorName !== 'unconditionalMatch') return false;
  } else {
    const bit = tx.usePrefilter ? rule.prefilterBit : -1;
    if (bit >= 0 && rule.unionIds.length > 0 && !selectionMayMatch(tx, prefilter, rule)) return false;
    let matched = false;
    // The rule's values in target order, after its own `!` exclusions and those `ctl` added at run
    // time; whole collections read through the phase's memo (engine/values.ts).
    const runtime = tx.runtimeExclusions(rule);
    for (const sel of rule.targets) {
      const entries = tx.select(sel);
      const memo = rule.multiMatch || !memoizable(tx, sel) ? undefined : collectionMemo(tx, prefilter, rule, entries, bit >= 0);
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        if (!sel.count && tx.isExcluded(rule, sel, entry, runtime)) continue;
        if (rule.multiMatch) {
          for (const value of multiMatchCandidates(rule, entry.value)) {
            if (bit >= 0 && !hasAllBits(tx.verdicts, verdictOf(tx, prefilter, value), rule.prefilterBits)) continue;
            if (testValue(tx, rule, entry, value)) {
              matched = true;
              break;
            }
          }
          continue;
        }
        const value = memo !== undefined ? memo.values[i]! : transformedValue(tx, rule, entry.value);
        // The operator cannot match a value that holds none of its required literals.
        if (bit >= 0 && !hasAllBits(tx.verdicts, memo?.offsets !== undefined ? memo.offsets[i]! : verdictOf(tx, prefilter, value), rule.prefilterBits)) continue;
        if (testValue(tx, rule, entry, value)) matched = true;
      }
    }
    if (!matched) return false;
  }
  if (rule.targets.length === 0) runLinkActions(tx, rule);
  return rule.chain === undefined ? true : evaluateLink(tx, prefilter, rule.chain);
}

function applySetVar(tx: Transaction, sv: SetVar): void {
  const name = tx.expand(sv.name);
  if (sv.collection !== 'TX') {
    tx.other.set(`${sv.collection}.${name.toLowerCase()}`, tx.expand(sv.value));
    return;
  }
  if (sv.op === 'delete') {
    tx.tx.delete(name.toLowerCase());
    return;
  }
  const value = tx.expand(sv.value);
  if (sv.op === 'set') {
    tx.setTx(name, value);
    return;
  }
  const old = parseInt(tx.getTx(name) ?? '0', 10) || 0;
  const delta = parseInt(value, 10) || 0;
  tx.setTx(name, String(sv.op === 'add' ? old + delta : old - delta));
}

/** Records a matched chain and applies its disruptive action. */
function onMatch(tx: Transaction, head: Rule): void {
  if (head.id !== 0) {
    tx.matches.push({
      id: head.id,
      phase: head.phase,
      msg: head.msg ? tx.expand(head.msg) : '',
      data: head.logdata ? tx.expand(head.logdata) : '',
      severity: head.severity,
      tags: head.tags,
      variable: tx.matchedVar?.name ?? '',
      logged: head.log,
    });
  }
  const action = head.disruptive;
  if (action === 'allow') tx.allowed = true;
  if (tx.engineMode !== 'On' || tx.interruption !== undefined) return;
  if (action === 'deny' || action === 'drop' || action === 'redirect') {
    tx.interruption = { ruleId: head.id, status: head.status ?? 403, action };
  }
}

/** Index just after the marker named `name` at or after `from`, or the end of the list. */
function afterMarker(rules: readonly Rule[], from: number, name: string): number {
  for (let k = from; k < rules.length; k++) if (rules[k]!.marker === name) return k + 1;
  return rules.length;
}

/** Runs one phase's rules in order, honouring skip, skipAfter, ctl removals and interruptions. */
export function runPhase(tx: Transaction, ruleSet: RuleSet, phase: number): void {
  if (tx.engineMode === 'Off' || tx.interruption !== undefined) return;
  if (tx.allowed && phase <= 2) return;
  const rules = ruleSet.phases[phase] ?? [];
  // The populate step before each phase changes the collections the cached unions were built from.
  tx.unionOffsets = [];
  tx.collectionMemos = new Map();
  let i = 0;
  while (i < rules.length) {
    const rule = rules[i]!;
    if (rule.marker !== undefined || tx.isRuleRemoved(rule)) {
      i++;
      continue;
    }
    tx.currentRule = rule;
    tx.matchedVars = [];
    const started = tx.profile === undefined ? 0 : performance.now();
    const matched = evaluateLink(tx, ruleSet.prefilter, rule);
    if (tx.profile !== undefined) tx.profile.set(rule.id, (tx.profile.get(rule.id) ?? 0) + 1000 * (performance.now() - started));
    if (!matched) {
      i++;
      continue;
    }
    onMatch(tx, rule);
    if (tx.interruption !== undefined || (tx.engineMode as string) === 'Off' || (tx.allowed && phase <= 2)) return;
    if (rule.skipAfter !== undefined) i = afterMarker(rules, i + 1, rule.skipAfter);
    else i += 1 + rule.skip;
  }
}

import type { Rule, SetVar } from '../types.js';
import type { RuleSet } from '../compile/ruleset.js';
import type { Transaction } from './transaction.js';
import { applyCtl } from './ctl.js';

/** Thrown when a transaction spends its operator budget: the caller decides (block or let through). */
export class BudgetExceededError extends Error {
  constructor(readonly ruleId: number) {
    super(`WAF budget exhausted at rule ${ruleId}`);
    this.name = 'BudgetExceededError';
  }
}

/** Values to test: the transformed value, or with multiMatch every intermediate value too. */
function candidates(tx: Transaction, rule: Rule, value: string): string[] {
  if (!rule.multiMatch) {
    if (rule.transforms.length === 0) return [value];
    let cache = tx.transformCache.get(rule.transformKey);
    if (cache === undefined) tx.transformCache.set(rule.transformKey, (cache = new Map()));
    let v = cache.get(value);
    if (v === undefined) {
      v = value;
      for (const t of rule.transforms) v = t(v);
      cache.set(value, v);
    }
    return [v];
  }
  const out = [value];
  let v = value;
  for (const t of rule.transforms) {
    const next = t(v);
    if (next !== v) out.push(next);
    v = next;
  }
  return out;
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

/** Evaluates one link of a chain (and the links after it); true when the whole chain matched. */
function evaluateLink(tx: Transaction, rule: Rule): boolean {
  if (rule.targets.length === 0) {
    // SecAction, or a rule whose only targets were removed: ModSecurity runs the operator on nothing.
    if (rule.operatorName !== 'unconditionalMatch') return false;
  } else {
    let matched = false;
    for (const entry of tx.targetsOf(rule)) {
      for (const value of candidates(tx, rule, entry.value)) {
        if (--tx.budget < 0) throw new BudgetExceededError(rule.id);
        if (rule.operator(tx, value, rule.capture) !== rule.negated) {
          matched = true;
          const hit = { name: entry.name, key: entry.key, value };
          tx.matchedVar = hit;
          tx.matchedVars.push(hit);
          runLinkActions(tx, rule);
          break;
        }
      }
    }
    if (!matched) return false;
  }
  if (rule.targets.length === 0) runLinkActions(tx, rule);
  return rule.chain === undefined ? true : evaluateLink(tx, rule.chain);
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
    const matched = evaluateLink(tx, rule);
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

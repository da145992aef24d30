import type { Exclusion, Rule, Selector, TxCheck, VarEntry } from '../types.js';
import type { Transaction } from './transaction.js';
import type { Collection } from '../variables/collection.js';
import { applyCtl } from './ctl.js';
import { applySetVar } from './setvar.js';
import { compare, toInt } from '../operators/index.js';
import { hasAllBits } from './prefilter.js';
import { collectionMemo, type CollectionMemo } from './collection-memo.js';
import { stepValue, transformedValue, verdictOf, wholeCollection } from './values.js';
import { selectionMayMatch } from './unions.js';
import { namedEntry } from '../variables/entry.js';

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
  if (!rule.linkActions) return;
  for (const sv of rule.setvars) applySetVar(tx, sv);
  for (const ctl of rule.ctls) applyCtl(tx, ctl);
}

/** Runs the operator on one value, within the transaction's budget: true when it matched (the caller records it). */
function operatorMatches(tx: Transaction, rule: Rule, value: string): boolean {
  if (--tx.budget < 0) throw new BudgetExceededError(rule.id);
  return rule.operator(tx, value, rule.capture) !== rule.negated;
}

/** Runs the operator on one value; on a match records it and runs the link's actions. */
function testValue(tx: Transaction, rule: Rule, entry: VarEntry, value: string): boolean {
  return operatorMatches(tx, rule, value) && recordMatch(tx, rule, entry, value);
}

/** `entry` matched with `value` (itself, or a transformation of it): recorded, then the link's actions run. True. */
function recordMatch(tx: Transaction, rule: Rule, entry: VarEntry, value: string): true {
  // Entries are immutable: an untransformed value's hit is the entry itself (no copy to allocate).
  valueMatched(tx, rule, value === entry.value ? entry : namedEntry(entry.name, entry.key, value));
  return true;
}

/** A value matched: it becomes MATCHED_VAR and one of MATCHED_VARS, then the link's actions run. */
function valueMatched(tx: Transaction, rule: Rule, hit: VarEntry): void {
  tx.addMatchedVar(hit);
  runLinkActions(tx, rule);
}

/**
 * A TX check (compile/tx-check.ts) without the general path's selection, exclusion lists, memo and
 * operator call: what that path would do for one TX entry or one count.
 */
function evaluateTxCheck(tx: Transaction, rule: Rule, check: TxCheck): boolean {
  let found: VarEntry | undefined;
  let n: number;
  if (check.count) {
    // Counts are never excluded; a TX name counts 0 or 1.
    n = tx.tx.has(check.key) ? 1 : 0;
  } else {
    found = tx.tx.get(check.key);
    if (found === undefined) return false;
    if (tx.txTargetsRemoved && tx.isExcluded(rule, check.selector, found.key, tx.runtimeExclusions(rule))) return false;
    n = toInt(found.value);
  }
  if (--tx.budget < 0) throw new BudgetExceededError(rule.id);
  if (compare(check.op, n, check.n) === rule.negated) return false;
  // The count's entry is read only now: on the cold path of a rule visit, each pointer costs.
  valueMatched(tx, rule, found ?? (n === 0 ? check.zeroEntry! : check.oneEntry!));
  return true;
}

/** Evaluates one link of a chain (and the links after it); true when the whole chain matched. */
export function evaluateLink(tx: Transaction, rule: Rule): boolean {
  if (rule.txCheck !== undefined) {
    if (!evaluateTxCheck(tx, rule, rule.txCheck)) return false;
  } else if (rule.targets.length === 0) {
    // SecAction, or a rule whose only targets were removed: ModSecurity runs the operator on nothing.
    if (rule.operatorName !== 'unconditionalMatch') return false;
    runLinkActions(tx, rule);
  } else {
    const bit = tx.usePrefilter ? rule.prefilterBit : -1;
    if (bit >= 0 && rule.unionIds.length > 0 && !selectionMayMatch(tx, rule)) return false;
    let matched = false;
    // The exclusions `ctl` added at run time, computed at the link's first value (before any of its
    // actions ran, as before its first selector): most selections are empty.
    let runtime: readonly Exclusion[] | undefined;
    for (let s = 0; s < rule.targets.length; s++) {
      const sel = rule.targets[s]!;
      if (sel.kind === 'txKey') {
        // A TX variable by name (113 of a GET's ~280 rules read only TX): one lookup, no list.
        const entry = tx.tx.get(sel.key!);
        if (entry === undefined) continue;
        runtime ??= tx.runtimeExclusions(rule);
        if (evaluateEntry(tx, rule, sel, entry, runtime, bit >= 0)) matched = true;
        continue;
      }
      // A whole collection is read through the call's memo of its transformed values (engine/values.ts),
      // and its entries are made only for the values that get past the gates.
      const coll = wholeCollection(tx, sel);
      const entries = coll !== undefined ? undefined : tx.select(sel);
      if ((coll !== undefined ? coll.size : entries!.length) === 0) continue;
      runtime ??= tx.runtimeExclusions(rule);
      if (evaluateEntries(tx, rule, sel, coll, entries, runtime, bit >= 0)) matched = true;
    }
    if (!matched) return false;
  }
  return rule.chain === undefined ? true : evaluateLink(tx, rule.chain);
}

/**
 * Runs the operator on one selector's values, in order, after the rule's own `!` exclusions and
 * `runtime`; true when one matched. The values are `coll`'s whole, or else `entries`.
 */
function evaluateEntries(tx: Transaction, rule: Rule, sel: Selector, coll: Collection | undefined, entries: readonly VarEntry[] | undefined, runtime: readonly Exclusion[], prefiltered: boolean): boolean {
  const cache = tx.cache;
  let matched = false;
  if (coll === undefined) {
    for (let i = 0; i < entries!.length; i++) if (evaluateEntry(tx, rule, sel, entries![i]!, runtime, prefiltered)) matched = true;
    return matched;
  }
  const memo = collectionMemo(cache, rule, coll, prefiltered);
  const node = memo.nodes[rule.transformNode]!;
  const gate = rule.classGate;
  // multiMatch over a chain that changed no value of the collection (its last node is the values
  // as they are: every step returned its input) has one candidate per value, the value itself: it
  // is walked as any rule is, gates first (942100's chain leaves a JSON body's ~460 values as they
  // are, and each went through the exclusion lists and a candidate walk before its gates).
  const multi = rule.multiMatch && node !== memo.nodes[0];
  // No value holds a char the operator needs (a NUL for 920270's byte range): nothing to test.
  if (!multi && (node.all & gate) === 0) return false;
  const memoValues = node.values;
  const memoClasses = node.classes;
  const memoOffsets = prefiltered ? node.offsets! : undefined;
  // What a repeated miss is recognized by: the value tested, or for multiMatch the original value
  // (equal originals give equal candidates at every node).
  const keys = multi ? memo.nodes[0]!.values : memoValues;
  const entryKeys = coll.keys;
  missByLength.fill(-1);
  for (let i = 0; i < keys.length; i++) {
    // The operator cannot match a value without the chars of its class gate, or without one of its
    // required literals (tested first: they rule out most values, and cost less than the exclusion lists).
    if (!multi) {
      if ((memoClasses[i]! & gate) === 0) continue;
      if (memoOffsets !== undefined && !hasAllBits(cache.verdicts, memoOffsets[i]!, rule.prefilterBits)) continue;
    }
    // The entry object is made only for a match (Collection.entryAt): most values get this far and no further.
    if (sel.kind !== 'count' && tx.isExcluded(rule, sel, entryKeys[i]!, runtime)) continue;
    const key = keys[i]!;
    const slot = key.length & 31;
    const j = missByLength[slot]!;
    if (j >= 0 && keys[j] === key) continue;
    if (multi ? memoMultiMatch(tx, rule, coll, memo, i, prefiltered) : operatorMatches(tx, rule, key) && recordMatch(tx, rule, coll.entryAt(i), key)) {
      matched = true;
      // Its actions may have changed what the operator reads (a macro of TX): misses start over.
      missByLength.fill(-1);
    } else missByLength[slot] = i;
  }
  return matched;
}

/**
 * Per value length (mod 32), the last value of the current walk the operator did not match: an
 * equal value later is not tested again (a JSON array of objects repeats values every few entries,
 * `"note": "a short description"`). Walks do not nest: no operator evaluates a collection.
 */
const missByLength = new Int32Array(32);

/** One value outside a collection memo: exclusions, transformations, prefilter, operator. */
function evaluateEntry(tx: Transaction, rule: Rule, sel: Selector, entry: VarEntry, runtime: readonly Exclusion[], prefiltered: boolean): boolean {
  if (sel.kind !== 'count' && tx.isExcluded(rule, sel, entry.key, runtime)) return false;
  if (rule.multiMatch) return multiMatch(tx, rule, entry, prefiltered);
  const value = transformedValue(tx.cache, rule, entry.value);
  if (prefiltered && !hasAllBits(tx.cache.verdicts, verdictOf(tx.cache, value), rule.prefilterBits)) return false;
  return testValue(tx, rule, entry, value);
}

/*
 * multiMatch (ModSecurity's semantics): the operator runs on the entry's value, then on its value
 * after each step of the chain that changed its input, in order, until one matches. The candidates
 * are read from the call's memos, as a normal rule's value is: no transformation runs twice.
 */

/** multiMatch on one value outside a collection memo: its values after each step come from the node memos (stepValue). */
function multiMatch(tx: Transaction, rule: Rule, entry: VarEntry, prefiltered: boolean): boolean {
  const original = entry.value;
  if (candidateMatches(tx, rule, original, -1, prefiltered)) return recordMatch(tx, rule, entry, original);
  let v = original;
  for (const step of rule.transformSteps) {
    const next = stepValue(tx.cache, step, original, v);
    if (next !== v && candidateMatches(tx, rule, next, -1, prefiltered)) return recordMatch(tx, rule, entry, next);
    v = next;
  }
  return false;
}

/** multiMatch on entry `i` of a whole collection: its candidates and their verdicts are in the memo's arrays, node by node. */
function memoMultiMatch(tx: Transaction, rule: Rule, coll: Collection, memo: CollectionMemo, i: number, prefiltered: boolean): boolean {
  const gate = rule.classGate;
  let node = memo.nodes[0]!;
  if ((node.classes[i]! & gate) !== 0 && candidateMatches(tx, rule, node.values[i]!, prefiltered ? node.offsets![i]! : -1, prefiltered)) return recordMatch(tx, rule, coll.entryAt(i), node.values[i]!);
  for (const step of rule.transformSteps) {
    const next = memo.nodes[step.node]!;
    // A step that changed no value of the collection shares its parent's node.
    if (next !== node && next.values[i] !== node.values[i] && (next.classes[i]! & gate) !== 0 && candidateMatches(tx, rule, next.values[i]!, prefiltered ? next.offsets![i]! : -1, prefiltered)) {
      return recordMatch(tx, rule, coll.entryAt(i), next.values[i]!);
    }
    node = next;
  }
  return false;
}

/** One multiMatch candidate: the prefilter (`offset`: its verdict, or -1 to look it up), then the operator. */
function candidateMatches(tx: Transaction, rule: Rule, value: string, offset: number, prefiltered: boolean): boolean {
  if (prefiltered && !hasAllBits(tx.cache.verdicts, offset >= 0 ? offset : verdictOf(tx.cache, value), rule.prefilterBits)) return false;
  return operatorMatches(tx, rule, value);
}


/**
 * The logging phase: as in ModSecurity, it runs after whatever the other phases decided (a blocked
 * request, an `allow`), and nothing in it can interrupt or allow (onMatch ignores its disruptive
 * actions; runPhase goes on after them). The CRS reports a transaction's scores there
 * (RESPONSE-980-CORRELATION, 980170).
 */
export const LOGGING_PHASE = 5;

/**
 * Records a matched chain and applies its disruptive action. `nolog` rules are not recorded: like
 * ModSecurity's log, the policy, the audit record and the regression suite read only logged
 * matches, and a request matches ~90 unlogged ones (the CRS's paranoia-level skips, its setup).
 */
export function onMatch(tx: Transaction, head: Rule): void {
  if (head.id !== 0 && head.log) {
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
  // Nothing in the logging phase interrupts or allows: the exchange is over (run-phase.ts).
  if (head.phase === LOGGING_PHASE) return;
  const action = head.disruptive;
  if (action === 'allow') tx.allowedThrough = 4;
  else if (action === 'allow:request') tx.allowedThrough = Math.max(tx.allowedThrough, 2, head.phase);
  else if (action === 'allow:phase') tx.allowedThrough = Math.max(tx.allowedThrough, head.phase);
  if (tx.engineMode !== 'On' || tx.interruption !== undefined) return;
  if (action === 'deny' || action === 'drop' || action === 'redirect') {
    tx.interruption = { ruleId: head.id, status: head.status ?? 403, action };
  }
}

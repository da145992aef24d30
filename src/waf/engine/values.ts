import type { Rule, Selector, TransformStep } from '../types.js';
import type { MaskSource } from '../compile/target-masks.js';
import type { Collection } from '../variables/collection.js';
import type { Transaction } from './transaction.js';
import { hasAllBits } from './prefilter.js';
import { UNION_UNKNOWN, type CollectionMemo, type EvaluationCache } from './evaluation-cache.js';
import { charClasses } from '../transforms/triggers.js';

/**
 * A value after the rule's transformations, memoized per evaluation call by transformation-prefix
 * node (compile/prefilter-plan.ts) and original value: rules whose chains share a prefix
 * (`t:utf8toUnicode,t:urlDecodeUni` starts a dozen CRS chains) transform each distinct value once
 * per distinct step.
 */
export function transformedValue(cache: EvaluationCache, rule: Rule, value: string): string {
  if (rule.transformNode === 0) return value;
  const v = cache.transformed[rule.transformNode]?.get(value);
  if (v !== undefined) return v;
  let out = value;
  for (const step of rule.transformSteps) out = stepValue(cache, step, value, out);
  return out;
}

/**
 * `original` after the transformation prefix that ends at `step`, memoized by node and original
 * value; `previous` must be `original` after the step's parent (its input, if not memoized yet).
 */
export function stepValue(cache: EvaluationCache, step: TransformStep, original: string, previous: string): string {
  const m = (cache.transformed[step.node] ??= new Map());
  let next = m.get(original);
  if (next === undefined) m.set(original, (next = step.fn(previous)));
  return next;
}

/**
 * The prefilter's verdict on a string, cached per evaluation call: the offset of its bits in
 * `cache.verdicts` (one pool, so a verdict costs no allocation of its own).
 */
export function verdictOf(cache: EvaluationCache, value: string): number {
  let offset = cache.verdictOffsets.get(value);
  if (offset === undefined) {
    offset = cache.allocVerdict();
    cache.prefilter.scanInto(value, cache.verdicts, offset);
    cache.verdictOffsets.set(value, offset);
  }
  return offset;
}

/**
 * The collection a selector reads whole (`ARGS`, `REQUEST_HEADERS`), or undefined for a key, a
 * key regex, a count, a scalar or a variable the transaction computes (`TX`, `MATCHED_VARS`).
 * Collections are fixed while a phase runs, so their entry list can carry a memo.
 */
export function wholeCollection(tx: Transaction, sel: Selector): Collection | undefined {
  if (sel.kind !== 'whole') return undefined;
  const coll = tx.collections.get(sel.collection);
  // A scalar of the same name wins, as in Transaction.entriesOf; most names are no collection at all.
  return coll === undefined || tx.scalars.has(sel.collection) ? undefined : coll;
}

/**
 * False when no value the rule selects (before exclusions: a superset) can match its operator, so
 * the rule is skipped without walking its values. The union of the verdicts over one selector's
 * values after one transformation chain is cached for the phase (Rule.unionIds): CRS rules share
 * a few dozen such pairs (`ARGS` after the XSS chain, ...).
 */
export function selectionMayMatch(tx: Transaction, rule: Rule): boolean {
  const cache = tx.cache;
  const ids = rule.unionIds;
  for (let s = 0; s < ids.length; s++) {
    let offset = cache.unionOffsets[ids[s]!]!;
    if (offset === UNION_UNKNOWN) cache.unionOffsets[ids[s]!] = offset = unionOf(tx, rule, rule.targets[s]!);
    if (offset >= 0 && hasAllBits(cache.verdicts, offset, rule.prefilterBits)) return true;
  }
  return false;
}

/**
 * The collection's memo, holding its values after the rule's transformations (and, when
 * `withOffsets`, their verdicts' offsets) at `memo.values[rule.transformNode]`: the bulk of the
 * union work, done as arrays, without a map lookup per value and node. Nodes are filled along the
 * rule's chain, so a node's parent is always filled before it.
 */
export function collectionMemo(cache: EvaluationCache, rule: Rule, coll: Collection, withOffsets: boolean): CollectionMemo {
  let memo = cache.collectionMemos.get(coll);
  if (memo === undefined || memo.version !== coll.version) {
    const raw = coll.entries.map((e) => e.value);
    const classes: number[] = [];
    let all = 0;
    for (const v of raw) all |= classes[classes.length] = charClasses(v);
    memo = { version: coll.version, values: [raw], classes: [classes], allClasses: [all], offsets: [], computedAt: new Map(), offsetsByValues: new Map() };
    cache.collectionMemos.set(coll, memo);
  }
  const last = rule.transformNode;
  if (memo.values[last] !== undefined && (!withOffsets || memo.offsets[last] !== undefined)) return memo;
  const { values, offsets } = memo;
  if (withOffsets) offsets[0] ??= offsetsOf(cache, memo, values[0]!, undefined, undefined);
  let parent = 0;
  for (const step of rule.transformSteps) {
    if (values[step.node] === undefined) transformAll(memo, parent, step);
    if (withOffsets) offsets[step.node] ??= offsetsOf(cache, memo, values[step.node]!, values[parent], offsets[parent]);
    parent = step.node;
  }
  return memo;
}

/**
 * Fills the memo at `step.node`: the step applied to every value at `parent`, called only where
 * the value holds a char that can trigger it. The parent's array itself when no value changes, as
 * is usual (most steps find nothing to decode or fold in ordinary values), so that node shares
 * its parent's verdicts too.
 */
function transformAll(memo: CollectionMemo, parent: number, step: TransformStep): void {
  const values = memo.values[parent]!;
  const classes = memo.classes[parent]!;
  const all = memo.allClasses[parent]!;
  if ((all & step.trigger) === 0) {
    // No value holds a char the step acts on: the node is its parent (one test, no walk).
    memo.values[step.node] = values;
    memo.classes[step.node] = classes;
    memo.allClasses[step.node] = all;
    return;
  }
  let byFn = memo.computedAt.get(values);
  const done = byFn?.get(step.fn);
  if (done !== undefined) {
    // Another node applied this transformation to this very array: same values.
    memo.values[step.node] = memo.values[done];
    memo.classes[step.node] = memo.classes[done];
    memo.allClasses[step.node] = memo.allClasses[done]!;
    return;
  }
  if (byFn === undefined) memo.computedAt.set(values, (byFn = new Map()));
  byFn.set(step.fn, step.node);
  let out: string[] | undefined;
  let outClasses: number[] | undefined;
  let outAll = 0;
  for (let i = 0; i < values.length; i++) {
    const before = values[i]!;
    const v = (classes[i]! & step.trigger) === 0 ? before : step.fn(before);
    if (out === undefined) {
      if (v === before) continue;
      out = values.slice(0, i);
      outClasses = classes.slice(0, i);
      for (const c of outClasses) outAll |= c;
    }
    const cls = v === before ? classes[i]! : charClasses(v);
    out.push(v);
    outClasses!.push(cls);
    outAll |= cls;
  }
  memo.values[step.node] = out ?? values;
  memo.classes[step.node] = outClasses ?? classes;
  memo.allClasses[step.node] = outClasses === undefined ? all : outAll;
}

/**
 * Verdict offsets of `vals` (memoized by array: nodes that hold the same array share them); a
 * value its step left unchanged keeps its parent's verdict.
 */
function offsetsOf(cache: EvaluationCache, memo: CollectionMemo, vals: readonly string[], before: readonly string[] | undefined, parentOffsets: readonly number[] | undefined): readonly number[] {
  if (vals === before) return parentOffsets!;
  let offs = memo.offsetsByValues.get(vals);
  if (offs !== undefined) return offs;
  const out: number[] = [];
  for (let i = 0; i < vals.length; i++) out.push(before !== undefined && before[i] === vals[i] ? parentOffsets![i]! : verdictOf(cache, vals[i]!));
  memo.offsetsByValues.set(vals, (offs = out));
  return offs;
}

/** Offset of the union of the selector's values' verdicts in the pool, or -1 when it selects nothing. */
function unionOf(tx: Transaction, rule: Rule, sel: Selector): number {
  const cache = tx.cache;
  const coll = wholeCollection(tx, sel);
  if (coll !== undefined) {
    if (coll.entries.length === 0) return -1;
    const memo = collectionMemo(cache, rule, coll, true);
    if (!rule.multiMatch) return unionOfArray(cache, memo.offsets[rule.transformNode]!);
    // A multiMatch rule tests the values after every node of its chain: each value at a node is a
    // candidate or equals its value at the node before, so these values are exactly its candidates.
    let offsets = memo.offsets[0]!;
    const unions = [unionOfArray(cache, offsets)];
    for (const step of rule.transformSteps) {
      const next = memo.offsets[step.node]!;
      // A step that changed no value shares its parent's array: its union is already in.
      if (next !== offsets) unions.push(unionOfArray(cache, next));
      offsets = next;
    }
    return orOffsets(cache, unions);
  }
  const entries = tx.select(sel);
  if (entries.length === 0) return -1;
  // One value (a header by name, a scalar): its verdict is the union.
  if (entries.length === 1 && !rule.multiMatch) return verdictOf(cache, transformedValue(cache, rule, entries[0]!.value));
  const offsets: number[] = [];
  for (const entry of entries) {
    if (!rule.multiMatch) {
      offsets.push(verdictOf(cache, transformedValue(cache, rule, entry.value)));
      continue;
    }
    // The candidates evaluate.ts tests, through the same node memos.
    let v = entry.value;
    offsets.push(verdictOf(cache, v));
    for (const step of rule.transformSteps) {
      const next = stepValue(cache, step, entry.value, v);
      if (next !== v) offsets.push(verdictOf(cache, next));
      v = next;
    }
  }
  return orOffsets(cache, offsets);
}

/** The union of a collection memo's offsets array, built once per call: steps that change no value share one array (collectionMemo). */
function unionOfArray(cache: EvaluationCache, offsets: readonly number[]): number {
  let union = cache.unionsOfOffsets.get(offsets);
  if (union === undefined) cache.unionsOfOffsets.set(offsets, (union = orOffsets(cache, offsets)));
  return union;
}

/** The union of verdicts at `offsets`: one of them when all are equal, else a new bitset in the pool; -1 for none. */
function orOffsets(cache: EvaluationCache, offsets: ArrayLike<number>): number {
  const words = cache.prefilter.words;
  let union = -1;
  let owned = false;
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]!;
    if (union === -1 || union === offset) {
      union = offset;
      continue;
    }
    if (!owned) {
      const copy = cache.allocVerdict();
      cache.verdicts.copyWithin(copy, union, union + words);
      union = copy;
      owned = true;
    }
    const pool = cache.verdicts;
    for (let k = 0; k < words; k++) pool[union + k]! |= pool[offset + k]!;
  }
  return union;
}

/**
 * The bits of `sources` (TargetMasks.names or .keys) that this phase's masked rules read (`wanted`)
 * and that select a value now, as Transaction.entriesOf selects them: a scalar of that name whole,
 * else the collection's entries (with that key); absent means no values.
 */
export function presentBits(tx: Transaction, sources: readonly MaskSource[], wanted: number): number {
  let present = 0;
  for (let b = 0; b < sources.length; b++) {
    if ((wanted & (1 << b)) === 0) continue;
    const { collection, key } = sources[b]!;
    if (tx.scalars.has(collection)) present |= 1 << b;
    else {
      const coll = tx.collections.get(collection);
      if (coll !== undefined && (key === undefined ? coll.entries : coll.byKey(key)).length > 0) present |= 1 << b;
    }
  }
  return present;
}

import type { Rule, Selector, TransformStep } from '../types.js';
import type { MaskSource } from '../compile/target-masks.js';
import type { Collection } from '../variables/collection.js';
import type { Transaction } from './transaction.js';
import { hasAllBits } from './prefilter.js';
import { UNION_UNKNOWN, type EvaluationCache } from './evaluation-cache.js';
import { collectionMemo, type NodeValues } from './collection-memo.js';

/**
 * A value after the rule's transformations, memoized per evaluation call by transformation-prefix
 * node (compile/prefilter-plan.ts) and original value: rules whose chains share a prefix
 * (`t:utf8toUnicode,t:urlDecodeUni` starts a dozen CRS chains) transform each distinct value once
 * per distinct step.
 */
export function transformedValue(cache: EvaluationCache, rule: Rule, value: string): string {
  if (rule.transformNode === 0) return value;
  const v = memoized(cache, rule.transformNode, value);
  if (v !== undefined) return v;
  let out = value;
  for (const step of rule.transformSteps) out = stepValue(cache, step, value, out);
  return out;
}

/**
 * Per node, values outside a collection memo (a scalar, a header by name) see one to three
 * originals a call: a short array of (original, result) pairs, searched in order, costs less than
 * a Map per node (a GET filled ~40 of them). Past this many entries, the node's pairs go on in a Map.
 */
const PAIRS_MAX = 16;

function memoized(cache: EvaluationCache, node: number, original: string): string | undefined {
  const pairs = cache.transformed[node];
  if (pairs === undefined) return undefined;
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === original) return pairs[i + 1];
  return pairs.length < PAIRS_MAX ? undefined : cache.transformedMaps[node]?.get(original);
}

/**
 * `original` after the transformation prefix that ends at `step`, memoized by node and original
 * value; `previous` must be `original` after the step's parent (its input, if not memoized yet).
 */
export function stepValue(cache: EvaluationCache, step: TransformStep, original: string, previous: string): string {
  const node = step.node;
  let next = memoized(cache, node, original);
  if (next !== undefined) return next;
  next = step.fn(previous);
  const pairs = cache.transformed[node];
  // A literal of two: an empty array grows to 17 slots at its first push.
  if (pairs === undefined) cache.transformed[node] = [original, next];
  else if (pairs.length < PAIRS_MAX) pairs.push(original, next);
  else (cache.transformedMaps[node] ??= new Map()).set(original, next);
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

/** Offset of the union of the selector's values' verdicts in the pool, or -1 when it selects nothing. */
function unionOf(tx: Transaction, rule: Rule, sel: Selector): number {
  const cache = tx.cache;
  const coll = wholeCollection(tx, sel);
  if (coll !== undefined) {
    if (coll.entries.length === 0) return -1;
    const memo = collectionMemo(cache, rule, coll, true);
    let node = memo.nodes[0]!;
    if (node.union === UNION_UNKNOWN) node.union = orOffsets(cache, node.offsets!);
    // A multiMatch rule tests the values after every node of its chain: each value at a node is a
    // candidate or equals its value at the node before, so these values are exactly its candidates.
    const unions = rule.multiMatch ? [node.union] : undefined;
    for (const step of rule.transformSteps) {
      const next = memo.nodes[step.node]!;
      if (next.union === UNION_UNKNOWN) next.union = derivedUnion(cache, node, next);
      // A step that changed no value shares its parent's node: its union is already in.
      if (unions !== undefined && next !== node) unions.push(next.union);
      node = next;
    }
    return unions === undefined ? node.union : orOffsets(cache, unions);
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

/**
 * A node's union: its parent's, with the verdicts of the values its step changed ORed in. That is
 * a superset of the union of its own values' verdicts (a changed value's old literals stay in),
 * and a superset is all ruling a rule out needs: what it lacks, no value has. Most steps change
 * few values, so a node costs a copy and a few ORs instead of one OR per value (~400 in a 4 KB JSON body).
 */
function derivedUnion(cache: EvaluationCache, parent: NodeValues, node: NodeValues): number {
  if (node === parent) return parent.union;
  const words = cache.prefilter.words;
  const union = cache.allocVerdict();
  // Read the pool only now: allocVerdict may have replaced it.
  const pool = cache.verdicts;
  pool.copyWithin(union, parent.union, parent.union + words);
  const { values, offsets } = node;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === parent.values[i]) continue;
    const offset = offsets![i]!;
    for (let k = 0; k < words; k++) pool[union + k]! |= pool[offset + k]!;
  }
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

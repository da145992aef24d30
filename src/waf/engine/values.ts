import type { Rule, Selector, TransformStep } from '../types.js';
import type { MaskSource } from '../compile/target-masks.js';
import type { Collection } from '../variables/collection.js';
import type { Transaction } from './transaction.js';
import type { EvaluationCache } from './evaluation-cache.js';

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
  const coll = tx.collections.getAt(sel.collectionSlot, sel.collection);
  // A scalar of the same name wins, as in Transaction.entriesOf; most names are no collection at all.
  return coll === undefined || tx.scalars.selectionAt(sel.scalarSlot, sel.collection) !== undefined ? undefined : coll;
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
    const { collection, key, scalarSlot, collectionSlot } = sources[b]!;
    if (tx.scalars.selectionAt(scalarSlot, collection) !== undefined) present |= 1 << b;
    else {
      const coll = tx.collections.getAt(collectionSlot, collection);
      if (coll !== undefined && (key === undefined ? coll.size : coll.byKey(key).length) > 0) present |= 1 << b;
    }
  }
  return present;
}

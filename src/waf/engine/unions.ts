import type { Rule, Selector } from '../types.js';
import type { Transaction } from './transaction.js';
import { hasAllBits } from './prefilter.js';
import { SOURCE_ABSENT, SOURCE_PRESENT, SOURCE_UNKNOWN, UNION_UNKNOWN, type EvaluationCache } from './evaluation-cache.js';
import { collectionMemo, rawNode } from './collection-memo.js';
import { charClasses } from '../transforms/triggers.js';
import { stepValue, transformedValue, verdictOf, wholeCollection } from './values.js';

/*
 * Unions of prefilter verdicts (engine/prefilter.ts) over what a rule selects: a rule none of
 * whose unions holds its literals is skipped without walking its values.
 */

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
    const id = ids[s]!;
    let offset = cache.unionOffsets[id]!;
    if (offset === UNION_UNKNOWN) {
      offset = unionFromSource(tx, id);
      if (offset === UNION_UNKNOWN) cache.unionOffsets[id] = offset = unionOf(tx, rule, rule.targets[s]!);
    }
    if (offset >= 0 && hasAllBits(cache.verdicts, offset, rule.prefilterBits)) return true;
  }
  return false;
}

/**
 * Union `u` when its selector's values decide it alone, else UNION_UNKNOWN (recorded when known):
 * -1 when the selector selects nothing; the values' own union when none of them holds a char any
 * step of the chain acts on, as every step then returns its input (t:lowercase aside, whose
 * output the case-blind scan reads alike). One selection and one raw union per selector and
 * phase, whatever the chains of the unions over it: most of a GET's unions read what it does not
 * have (arguments, cookies, a body), and most of the rest values no decoding step acts on.
 */
export function unionFromSource(tx: Transaction, u: number): number {
  const cache = tx.cache;
  const source = cache.unionSources.ofUnion[u]!;
  if (cache.sourceStates[source] === SOURCE_UNKNOWN) readSource(tx, source);
  if (cache.sourceStates[source] === SOURCE_ABSENT) return (cache.unionOffsets[u] = -1);
  const raw = cache.sourceUnions[source]!;
  if (raw === UNION_UNKNOWN || (cache.sourceClasses[source]! & cache.unionSources.chainTriggers[u]!) !== 0) return UNION_UNKNOWN;
  return (cache.unionOffsets[u] = raw);
}

/** Whether the source selects anything now and, if it does, its values' own union and char classes. */
function readSource(tx: Transaction, source: number): void {
  const cache = tx.cache;
  const sel = cache.unionSources.selectors[source];
  cache.sourceStates[source] = SOURCE_PRESENT;
  cache.sourceUnions[source] = UNION_UNKNOWN;
  // A count always has a value; its union is left to unionOf.
  if (sel === undefined) return;
  const coll = wholeCollection(tx, sel);
  if (coll !== undefined) {
    if (coll.size === 0) {
      cache.sourceStates[source] = SOURCE_ABSENT;
      return;
    }
    // With its union (collection-memo.ts scanNode).
    const node = rawNode(cache, coll);
    cache.sourceUnions[source] = node.union;
    cache.sourceClasses[source] = node.all;
    return;
  }
  const entries = tx.select(sel);
  if (entries.length === 0) {
    cache.sourceStates[source] = SOURCE_ABSENT;
    return;
  }
  let classes = 0;
  let union = -1;
  if (entries.length === 1) {
    classes = charClasses(entries[0]!.value);
    union = verdictOf(cache, entries[0]!.value);
  } else {
    const offsets: number[] = [];
    for (const entry of entries) {
      classes |= charClasses(entry.value);
      offsets.push(verdictOf(cache, entry.value));
    }
    union = orOffsets(cache, offsets);
  }
  cache.sourceUnions[source] = union;
  cache.sourceClasses[source] = classes;
}

/** Offset of the union of the selector's values' verdicts in the pool, or -1 when it selects nothing. */
function unionOf(tx: Transaction, rule: Rule, sel: Selector): number {
  const cache = tx.cache;
  const coll = wholeCollection(tx, sel);
  if (coll !== undefined) {
    if (coll.size === 0) return -1;
    // The memo's nodes come with their unions (collection-memo.ts scanNode).
    const memo = collectionMemo(cache, rule, coll, true);
    let node = memo.nodes[0]!;
    // A multiMatch rule tests the values after every node of its chain: each value at a node is a
    // candidate or equals its value at the node before, so these values are exactly its candidates.
    const unions = rule.multiMatch ? [node.union] : undefined;
    for (const step of rule.transformSteps) {
      const next = memo.nodes[step.node]!;
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
 * The union of verdicts at `offsets`: one of them when all are equal, else a new bitset in the pool;
 * -1 for none. A verdict equal to the one before it is not ORed again (equal values share theirs).
 */
function orOffsets(cache: EvaluationCache, offsets: ArrayLike<number>): number {
  const words = cache.prefilter.words;
  let union = -1;
  let owned = false;
  let last = -1;
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]!;
    if (union === -1 || union === offset) {
      union = offset;
      continue;
    }
    if (offset === last) continue;
    last = offset;
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

import type { Rule, Selector, VarEntry } from '../types.js';
import type { Transaction } from './transaction.js';
import { hasAllBits, type Prefilter } from './prefilter.js';

/**
 * A value after the rule's transformations, memoized per transaction by transformation-prefix node
 * (compile/prefilter-plan.ts) and original value: rules whose chains share a prefix
 * (`t:utf8toUnicode,t:urlDecodeUni` starts a dozen CRS chains) transform each distinct value once
 * per distinct step.
 */
export function transformedValue(tx: Transaction, rule: Rule, value: string): string {
  if (rule.transformNode === 0) return value;
  const memo = tx.transformed;
  const last = (memo[rule.transformNode] ??= new Map());
  let v = last.get(value);
  if (v !== undefined) return v;
  v = value;
  for (const step of rule.transformSteps) {
    const m = (memo[step.node] ??= new Map());
    let next = m.get(value);
    if (next === undefined) m.set(value, (next = step.fn(v)));
    v = next;
  }
  return v;
}

/** Values to test for a multiMatch rule: the value and every intermediate value that differs. */
export function multiMatchCandidates(rule: Rule, value: string): string[] {
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
 * The prefilter's verdict on a string, cached per transaction: the offset of its bits in
 * `tx.verdicts` (one growing pool, so a verdict costs no allocation of its own).
 */
export function verdictOf(tx: Transaction, prefilter: Prefilter, value: string): number {
  let offset = tx.verdictOffsets.get(value);
  if (offset === undefined) {
    offset = allocVerdict(tx, prefilter.words);
    prefilter.scanInto(value, tx.verdicts, offset);
    tx.verdictOffsets.set(value, offset);
  }
  return offset;
}

/** A zeroed bitset in the pool (which may move: read `tx.verdicts` after). */
function allocVerdict(tx: Transaction, words: number): number {
  const offset = tx.verdictsUsed;
  if (offset + words > tx.verdicts.length) {
    const grown = new Uint32Array(Math.max(tx.verdicts.length * 2, 64 * words));
    grown.set(tx.verdicts);
    tx.verdicts = grown;
  }
  tx.verdictsUsed += words;
  return offset;
}

/**
 * False when no value the rule selects (before exclusions: a superset) can match its operator, so
 * the rule is skipped without walking its values. The union of the verdicts over one selector's
 * values after one transformation chain is cached for the phase (Rule.unionIds): CRS rules share
 * a few dozen such pairs (`ARGS` after the XSS chain, ...).
 */
export function selectionMayMatch(tx: Transaction, prefilter: Prefilter, rule: Rule): boolean {
  const ids = rule.unionIds;
  for (let s = 0; s < ids.length; s++) {
    let offset = tx.unionOffsets[ids[s]!];
    if (offset === undefined) tx.unionOffsets[ids[s]!] = offset = unionOf(tx, prefilter, rule, rule.targets[s]!);
    if (offset >= 0 && hasAllBits(tx.verdicts, offset, rule.prefilterBits)) return true;
  }
  return false;
}

/**
 * A whole collection's values (`ARGS`, `ARGS_NAMES`, ...) after each transformation-prefix node,
 * and their verdicts' offsets, as arrays: the bulk of the union work, done without a map lookup
 * per value and node. A step that returns its input unchanged keeps the previous verdict.
 */
interface CollectionMemo {
  readonly values: (readonly string[] | undefined)[];
  readonly offsets: (Int32Array | undefined)[];
}

/** A selector of a whole collection fixed for the phase: its entry list can carry a memo. */
export function memoizable(tx: Transaction, sel: Selector): boolean {
  return sel.key === undefined && sel.keyRegex === undefined && !sel.count && tx.collections.has(sel.collection) && !tx.scalars.has(sel.collection);
}

/** The collection's values after the rule's transformations and, when `withOffsets`, their verdicts' offsets. */
export function collectionMemo(tx: Transaction, prefilter: Prefilter, rule: Rule, entries: readonly VarEntry[], withOffsets: boolean): { values: readonly string[]; offsets: Int32Array | undefined } {
  let memo = tx.collectionMemos.get(entries);
  if (memo === undefined) tx.collectionMemos.set(entries, (memo = { values: [entries.map((e) => e.value)], offsets: [] }));
  const { values, offsets } = memo;
  // Offsets are computed along the chain, so the parent's exist when a node's are computed.
  const offsetsAt = (node: number, parent: number): Int32Array => {
    let offs = offsets[node];
    if (offs !== undefined) return offs;
    const vals = values[node]!;
    const before = node === 0 ? undefined : values[parent]!;
    const parentOffs = node === 0 ? undefined : offsets[parent]!;
    offs = new Int32Array(vals.length);
    for (let i = 0; i < vals.length; i++) offs[i] = before !== undefined && before[i] === vals[i] ? parentOffs![i]! : verdictOf(tx, prefilter, vals[i]!);
    offsets[node] = offs;
    return offs;
  };
  let parent = 0;
  let offs = withOffsets ? offsetsAt(0, -1) : undefined;
  for (const step of rule.transformSteps) {
    if (values[step.node] === undefined) values[step.node] = values[parent]!.map((v) => step.fn(v));
    if (withOffsets) offs = offsetsAt(step.node, parent);
    parent = step.node;
  }
  return { values: values[parent]!, offsets: offs };
}

/** Offset of the union of the selector's values' verdicts in the pool, or -1 when it selects nothing. */
function unionOf(tx: Transaction, prefilter: Prefilter, rule: Rule, sel: Selector): number {
  const words = prefilter.words;
  if (!rule.multiMatch && memoizable(tx, sel)) return orOffsets(tx, words, collectionMemo(tx, prefilter, rule, tx.select(sel), true).offsets!);
  const offsets: number[] = [];
  for (const entry of tx.select(sel)) {
    const values = rule.multiMatch ? multiMatchCandidates(rule, entry.value) : [transformedValue(tx, rule, entry.value)];
    for (const v of values) {
      offsets.push(verdictOf(tx, prefilter, v));
    }
  }
  return orOffsets(tx, words, offsets);
}

/** The union of verdicts at `offsets`: one of them when all are equal, else a new bitset in the pool. */
function orOffsets(tx: Transaction, words: number, offsets: ArrayLike<number>): number {
  let union = -1;
  let owned = false;
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i]!;
    if (union === -1 || union === offset) {
      union = offset;
      continue;
    }
    if (!owned) {
      const copy = allocVerdict(tx, words);
      tx.verdicts.copyWithin(copy, union, union + words);
      [union, owned] = [copy, true];
    }
    const pool = tx.verdicts;
    for (let k = 0; k < words; k++) pool[union + k]! |= pool[offset + k]!;
  }
  return union;
}

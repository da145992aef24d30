import type { Collection } from '../variables/collection.js';
import type { EvaluationCache } from './evaluation-cache.js';
import { charClasses } from '../transforms/triggers.js';
import { earlierEqual, forgetLengths } from './walk-equal.js';

/*
 * A collection's values as they are (node 0 of its memo, collection-memo.ts): their char classes,
 * and their prefilter verdicts read once per value. Values often start like the value after them (a
 * JSON body's names: `json.items.12.id`, `json.items.12.name`, ...): the scanner's state and bits
 * after such a shared start are kept, and the next value is scanned from there on.
 */

export interface RawValues {
  readonly values: readonly string[];
  readonly classes: Int32Array;
  readonly all: number;
}

/** The collection's values with their char classes (transforms/triggers.ts), computed unless they came with the values. */
export function rawValues(coll: Collection): RawValues {
  const values = coll.values;
  let all = 0;
  const known = coll.valueClasses;
  if (known !== undefined) {
    for (let i = 0; i < known.length; i++) all |= known[i]!;
    return { values, classes: known, all };
  }
  const classes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) all |= classes[i] = charClasses(values[i]!);
  return { values, classes, all };
}

/**
 * Verdict offsets of a collection's values as they are (node 0); a value equal to one scanned
 * earlier in the walk shares its verdict. A value that starts like the next one (a JSON body's
 * names: `json.items.12.id`, `json.items.12.name`, ...) is read in two ranges, and the state and
 * bits after the shared start are kept: the next value starts its scan from them and reads only
 * its own chars (prefilter.ts scanRange). A 4 KB JSON body's ~230 names are ~3,900 of the ~6,400
 * chars a request scans, and they share ~14 chars with the name before them in their object.
 */
export function rawOffsets(cache: EvaluationCache, vals: readonly string[]): Int32Array {
  const out = new Int32Array(vals.length);
  const prefilter = cache.prefilter;
  const words = prefilter.words;
  const kept = cache.sharedStartBits;
  // The state after the first `keptAt` chars of the value scanned last, whose bits there are in `kept`; -1: none kept.
  let keptState = -1;
  let keptAt = 0;
  forgetLengths();
  for (let i = 0; i < vals.length; i++) {
    const j = earlierEqual(vals, i);
    if (j >= 0) {
      out[i] = out[j]!;
      keptState = -1;
      continue;
    }
    const value = vals[i]!;
    const offset = cache.allocVerdict();
    // Read the pool only now: allocVerdict may have replaced it.
    const bits = cache.verdicts;
    let state = 0;
    let from = 0;
    // What was kept is this value's own start: it was kept where the previous value and this one agree.
    // The row is zero (allocVerdict).
    if (keptState >= 0) {
      for (let w = 0; w < words; w++) bits[offset + w] = kept[w]!;
      state = keptState;
      from = keptAt;
    }
    // How many leading chars this value shares with the next: where to keep the state for it.
    const mark = i + 1 < vals.length ? sharedStart(value, vals[i + 1]!) : 0;
    if (mark > from) {
      state = prefilter.scanRange(value, from, mark, state, bits, offset);
      for (let w = 0; w < words; w++) kept[w] = bits[offset + w]!;
      keptState = state;
      keptAt = from = mark;
    } else if (mark < from || mark === 0) keptState = -1;
    prefilter.scanRange(value, from, value.length, state, bits, offset);
    out[i] = offset;
  }
  return out;
}

/**
 * Resuming costs two copies of a bitset (~15 words with the CRS), about what scanning a few chars
 * does: starts shorter than this are read again.
 */
const MIN_SHARED_START = 6;

/** How many leading chars `a` and `b` share, or 0 when fewer than MIN_SHARED_START. */
function sharedStart(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let k = 0;
  while (k < n && a.charCodeAt(k) === b.charCodeAt(k)) k++;
  return k >= MIN_SHARED_START ? k : 0;
}


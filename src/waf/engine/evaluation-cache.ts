import type { Transform } from '../types.js';
import type { Collection } from '../variables/collection.js';
import type { Prefilter } from './prefilter.js';

/** A whole collection's values after each transformation-prefix node, and their verdicts' offsets (engine/values.ts). */
export interface CollectionMemo {
  /** The collection's `version` the memo was built from: a changed collection gets a new memo. */
  readonly version: number;
  readonly values: (readonly string[] | undefined)[];
  /** Per node, each value's char classes (transforms/triggers.ts): a step its value lacks the trigger of is skipped. */
  readonly classes: (readonly number[] | undefined)[];
  /** Per node, the union of its values' classes: a step no value has the trigger of is skipped whole. */
  readonly allClasses: number[];
  readonly offsets: (readonly number[] | undefined)[];
  /**
   * The node each (input array, transformation) pair was first computed at. Two nodes that apply
   * the same transformation to the same array hold the same values: CRS chains differ mostly in
   * steps that change no value of an ordinary request (their node shares its parent's array), so
   * e.g. 934100's and 934130's `t:base64Decode` read one array and decode it once.
   */
  readonly computedAt: Map<readonly string[], Map<Transform, number>>;
  /** Verdict offsets by values array: nodes that share an array share its offsets (and union). */
  readonly offsetsByValues: Map<readonly string[], readonly number[]>;
}

/** `unionOffsets` entry of a union not computed yet in this phase (-1: it selects nothing). */
export const UNION_UNKNOWN = -2;

/**
 * What one evaluation call (`evaluateRequest`: phases 1 and 2; `evaluateResponse`: 3 and 4)
 * memoizes: transformed values, the prefilter's verdicts, whole-collection memos and unions.
 *
 * It belongs to the engine, not to the transaction, and is emptied at the end of every call (also
 * one that throws), so no request's values stay in it. A call is synchronous, so no two
 * transactions use it at once, and a transaction that waits for its upstream between the request
 * and response calls retains none of it. In the gateway those
 * waits outlive a young-generation GC, so per-transaction caches were promoted to the old
 * generation and collected there, at several times the cost. The pool and the maps are reused
 * instead of grown again per request. No value survives a call: this caches nothing across requests.
 */
export class EvaluationCache {
  /** The literal prefilter's verdicts (engine/prefilter.ts): a pool of bitsets, and each string's offset in it. */
  verdicts: Uint32Array;
  verdictsUsed = 0;
  verdictOffsets = new Map<string, number>();
  /** Transformed values by transformation-prefix node, then original value (engine/values.ts). */
  transformed: (Map<string, string> | undefined)[] = [];
  collectionMemos = new Map<Collection, CollectionMemo>();
  /** The union of a collection memo's offsets array, by that (immutable) array. */
  unionsOfOffsets = new Map<readonly number[], number>();
  /** Offsets in `verdicts` of the unions by Rule.unionIds (-1: no values; UNION_UNKNOWN); reset at each phase. */
  readonly unionOffsets: Int32Array;

  constructor(
    readonly prefilter: Prefilter,
    unionCount: number,
  ) {
    this.verdicts = new Uint32Array(INITIAL_VERDICTS * prefilter.words);
    this.unionOffsets = new Int32Array(unionCount).fill(UNION_UNKNOWN);
  }

  /** Forgets everything: called when each evaluation call ends. */
  reset(): void {
    // A huge request may have grown the pool: do not keep that much memory for the next ones.
    if (this.verdicts.length > MAX_KEPT_VERDICTS * this.prefilter.words) this.verdicts = new Uint32Array(INITIAL_VERDICTS * this.prefilter.words);
    this.verdictsUsed = 0;
    // New containers, not cleared ones: this cache lives in the old generation, and a cleared Map
    // keeps its old table, whose slots still point at the call's strings and arrays until the next
    // full GC. Every young-generation GC until then found them through those slots and promoted
    // them: a process fell into a mode where each 4 KB JSON body left ~0.2 MB in the old generation,
    // and the WAF cost twice as much (GC and cache misses). New containers are young, as is all
    // they hold, and die young. Only the ones this call used are replaced (a GET touches few).
    if (this.verdictOffsets.size !== 0) this.verdictOffsets = new Map();
    if (this.transformed.length !== 0) this.transformed = [];
    if (this.collectionMemos.size !== 0) this.collectionMemos = new Map();
    if (this.unionsOfOffsets.size !== 0) this.unionsOfOffsets = new Map();
    this.unionOffsets.fill(UNION_UNKNOWN);
  }

  /** The populate step before each phase changes the values unions were built from. */
  resetUnions(): void {
    this.unionOffsets.fill(UNION_UNKNOWN);
  }

  /**
   * A bitset in the pool (which may move: read `verdicts` after). Not cleared: its caller writes
   * every word (a scan clears them first, a union copies into them).
   */
  allocVerdict(): number {
    const words = this.prefilter.words;
    const offset = this.verdictsUsed;
    if (offset + words > this.verdicts.length) {
      const grown = new Uint32Array(this.verdicts.length * 2);
      grown.set(this.verdicts);
      this.verdicts = grown;
    }
    this.verdictsUsed += words;
    return offset;
  }
}

/** Verdicts the pool holds at first: a GET without a body needs about 90, a 4 KB JSON body about 300. */
const INITIAL_VERDICTS = 512;
/** Past this many verdicts (60 bytes each with the CRS) the pool is dropped at reset. */
const MAX_KEPT_VERDICTS = 16_384;

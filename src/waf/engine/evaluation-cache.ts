import type { Collection } from '../variables/collection.js';
import type { CollectionMemo } from './collection-memo.js';
import type { Prefilter } from './prefilter.js';
import type { RuleSet } from '../compile/ruleset.js';
import type { UnionSources } from '../compile/prefilter-plan.js';
import { forgetPresence } from '../regex/branch-prune.js';
import { forgetDecodings } from '../transforms/basic.js';

/** `unionOffsets` entry of a union not computed yet in this phase (-1: it selects nothing). */
export const UNION_UNKNOWN = -2;

/** `sourceStates` entries: not looked at yet in this phase, selects nothing, selects values. */
export const SOURCE_UNKNOWN = 0;
export const SOURCE_ABSENT = 1;
export const SOURCE_PRESENT = 2;

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
  /** Transformed values by transformation-prefix node: (original, result) pairs, then a Map past a few (engine/values.ts). */
  transformed: (string[] | undefined)[] = [];
  transformedMaps: (Map<string, string> | undefined)[] = [];
  collectionMemos = new Map<Collection, CollectionMemo>();
  /** Offsets in `verdicts` of the unions by Rule.unionIds (-1: no values; UNION_UNKNOWN); reset at each phase. */
  readonly unionOffsets: Int32Array;
  /**
   * Per union source (UnionSources index), reset at each phase: whether it selects anything
   * (SOURCE_*), and once known present, the union of its values' own verdicts (UNION_UNKNOWN for
   * a count) and of their char classes (engine/unions.ts).
   */
  readonly sourceStates: Uint8Array;
  readonly sourceUnions: Int32Array;
  readonly sourceClasses: Int32Array;
  readonly prefilter: Prefilter;
  /** Scratch for raw-node.ts rawOffsets: the bits after the start a value shares with the next. */
  readonly sharedStartBits: Uint32Array;
  readonly unionSources: UnionSources;
  /** Transformation-prefix nodes in the rule set, the untransformed one (0) included. */
  readonly nodeCount: number;

  constructor(ruleSet: Pick<RuleSet, 'prefilter' | 'unionCount' | 'unionSources' | 'nodeCount'>) {
    this.prefilter = ruleSet.prefilter;
    this.unionSources = ruleSet.unionSources;
    this.nodeCount = ruleSet.nodeCount;
    this.verdicts = new Uint32Array(INITIAL_VERDICTS * this.prefilter.words);
    this.sharedStartBits = new Uint32Array(this.prefilter.words);
    this.unionOffsets = new Int32Array(ruleSet.unionCount).fill(UNION_UNKNOWN);
    const sources = ruleSet.unionSources.selectors.length;
    this.sourceStates = new Uint8Array(sources);
    this.sourceUnions = new Int32Array(sources);
    this.sourceClasses = new Int32Array(sources);
  }

  /** Forgets everything: called when each evaluation call ends. */
  reset(): void {
    // A huge request may have grown the pool: do not keep that much memory for the next ones.
    if (this.verdicts.length > MAX_KEPT_VERDICTS * this.prefilter.words) this.verdicts = new Uint32Array(INITIAL_VERDICTS * this.prefilter.words);
    // Rows are handed out zeroed (allocVerdict): one native fill here, not a loop per row.
    else this.verdicts.fill(0, 0, this.verdictsUsed);
    this.verdictsUsed = 0;
    // New containers, not cleared ones: this cache lives in the old generation, and a cleared Map
    // keeps its old table, whose slots still point at the call's strings and arrays until the next
    // full GC. Every young-generation GC until then found them through those slots and promoted
    // them: a process fell into a mode where each 4 KB JSON body left ~0.2 MB in the old generation,
    // and the WAF cost twice as much (GC and cache misses). New containers are young, as is all
    // they hold, and die young. Only the ones this call used are replaced (a GET touches few).
    if (this.verdictOffsets.size !== 0) this.verdictOffsets = new Map();
    if (this.transformed.length !== 0) this.transformed = [];
    if (this.transformedMaps.length !== 0) this.transformedMaps = [];
    if (this.collectionMemos.size !== 0) this.collectionMemos = new Map();
    forgetPresence();
    forgetDecodings();
    this.resetUnions();
  }

  /** The populate step before each phase changes the values unions were built from. */
  resetUnions(): void {
    this.unionOffsets.fill(UNION_UNKNOWN);
    this.sourceStates.fill(SOURCE_UNKNOWN);
  }

  /**
   * A bitset in the pool (which may move: read `verdicts` after), all zero: the used part of the pool
   * is zeroed at each reset, in one fill (a 4 KB JSON body takes ~500 rows of 15 words, and a loop
   * per row cleared them word by word), and a grown pool is new memory past the copy.
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

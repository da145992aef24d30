import type { Rule, TransformStep, Transform } from '../types.js';
import type { Collection } from '../variables/collection.js';
import { UNION_UNKNOWN, type EvaluationCache } from './evaluation-cache.js';
import { charClasses } from '../transforms/triggers.js';
import { earlierEqual, forgetLengths } from './walk-equal.js';
import { rawOffsets, rawValues } from './raw-node.js';

/**
 * A whole collection's values after one transformation-prefix node (compile/prefilter-plan.ts).
 * Nodes whose values are the same share one object, and with it their verdicts and union: most
 * steps find nothing to decode or fold in ordinary values, so most nodes are their parent.
 */
export interface NodeValues {
  readonly values: readonly string[];
  /** Each value's char classes (transforms/triggers.ts): a step is called only on values holding its trigger. */
  readonly classes: Int32Array;
  /** The union of `classes`: a step no value has the trigger of is skipped whole. */
  readonly all: number;
  /** Each value's verdict offset in the pool, once a prefiltered rule read the node. */
  offsets: Int32Array | undefined;
  /** Offset of a superset of the union of the values' verdicts, set with `offsets` (scanNode); UNION_UNKNOWN until then. */
  union: number;
  /**
   * The nodes computed from this one, by transformation. Two nodes that apply the same
   * transformation to the same values hold the same values: CRS chains differ mostly in steps that
   * change nothing in an ordinary request, so e.g. 934100's and 934130's `t:base64Decode` read one
   * node and decode it once.
   */
  derived: Map<Transform, NodeValues> | undefined;
}

/** A whole collection's values per node, for one evaluation call. */
export interface CollectionMemo {
  /** The collection's `version` the memo was built from: a changed collection gets a new memo. */
  readonly version: number;
  /** By node (0: the values as they are); one array, sized to the rule set's node count. */
  readonly nodes: (NodeValues | undefined)[];
}

function nodeOf(values: readonly string[], classes: Int32Array, all: number): NodeValues {
  return { values, classes, all, offsets: undefined, union: UNION_UNKNOWN, derived: undefined };
}

/**
 * The collection's memo, filled along the rule's chain up to `rule.transformNode` (and, when
 * `withOffsets`, with the verdicts' offsets): the bulk of the union work, done as arrays, without a
 * map lookup per value and node. A node's parent is always filled before it.
 */
export function collectionMemo(cache: EvaluationCache, rule: Rule, coll: Collection, withOffsets: boolean): CollectionMemo {
  const memo = memoOf(cache, coll);
  const nodes = memo.nodes;
  const last = nodes[rule.transformNode];
  if (last !== undefined && (!withOffsets || last.offsets !== undefined)) return memo;
  let parent = nodes[0]!;
  if (withOffsets && parent.offsets === undefined) scanNode(cache, parent);
  for (const step of rule.transformSteps) {
    const node = (nodes[step.node] ??= transformAll(parent, step));
    if (withOffsets && node.offsets === undefined) scanNode(cache, node, parent);
    parent = node;
  }
  return memo;
}

/** The collection's memo, with its node 0 (the values as they are), made if the call has none yet. */
function memoOf(cache: EvaluationCache, coll: Collection): CollectionMemo {
  let memo = cache.collectionMemos.get(coll);
  if (memo === undefined || memo.version !== coll.version) {
    const raw = rawValues(coll);
    memo = { version: coll.version, nodes: new Array<NodeValues | undefined>(cache.nodeCount) };
    memo.nodes[0] = nodeOf(raw.values, raw.classes, raw.all);
    cache.collectionMemos.set(coll, memo);
  }
  return memo;
}

/** The collection's values as they are (node 0), with their verdicts' offsets. */
export function rawNode(cache: EvaluationCache, coll: Collection): NodeValues {
  const node = memoOf(cache, coll).nodes[0]!;
  if (node.offsets === undefined) scanNode(cache, node);
  return node;
}

/**
 * A node's verdicts and their union: for the values as they are (no `parent`), the OR of the
 * reporting states the scan reached (Prefilter.orReached), not of one row per value; after a step,
 * its parent's union with what the scans of the values the step changed reached ORed in. That is a
 * superset of the union of its own values' verdicts (a changed value's old literals stay in), and a
 * superset is all ruling a rule out needs: what it lacks, no value has. A value the step left as
 * it was keeps its parent's verdict, already in.
 */
function scanNode(cache: EvaluationCache, node: NodeValues, parent?: NodeValues): void {
  cache.prefilter.beginReach();
  node.offsets = parent === undefined ? rawOffsets(cache, node.values) : offsetsOf(cache, node.values, parent.values, parent.offsets!);
  const union = cache.allocVerdict();
  // Read the pool only now: allocVerdict may have replaced it. A new row is zero.
  const pool = cache.verdicts;
  if (parent !== undefined) pool.copyWithin(union, parent.union, parent.union + cache.prefilter.words);
  cache.prefilter.orReached(pool, union);
  node.union = union;
}

/**
 * The step applied to every value of `parent`, called only where the value holds a char that can
 * trigger it, and once per run of equal values: `parent` itself when no value changes. The new
 * node's arrays are whole copies of the parent's, written where a value changed: a 4 KB JSON body's
 * ARGS and ARGS_NAMES get a handful of nodes of ~230 values each, and arrays grown by push
 * allocated about twice their final size (this and offsetsOf were ~40% of the request's garbage).
 */
export function transformAll(parent: NodeValues, step: TransformStep): NodeValues {
  // No value holds a char the step acts on: one test, no walk.
  if ((parent.all & step.trigger) === 0) return parent;
  const done = parent.derived?.get(step.fn);
  if (done !== undefined) return done;
  const { values, classes } = parent;
  let out: string[] | undefined;
  let outClasses: Int32Array | undefined;
  let outAll = 0;
  // The last new value and its classes: a step often gives many values one result (base64Decode
  // turns every `json.items.N.x` name into the bytes of `json`, the same string from its memo).
  let lastOut: string | undefined;
  let lastClasses = 0;
  forgetLengths();
  for (let i = 0; i < values.length; i++) {
    const before = values[i]!;
    let v = before;
    let cls = classes[i]!;
    if ((cls & step.trigger) !== 0) {
      const j = earlierEqual(values, i);
      if (j < 0) {
        v = step.fn(before);
        if (v !== before) {
          if (v !== lastOut) {
            lastOut = v;
            lastClasses = charClasses(v);
          }
          cls = lastClasses;
        }
      } else if (out !== undefined && out[j] !== values[j]) {
        // An equal value the step changed (out is undefined while no value has changed).
        v = out[j]!;
        cls = outClasses![j]!;
      }
    }
    outAll |= cls;
    if (v === before) continue;
    if (out === undefined) {
      out = values.slice();
      outClasses = classes.slice();
    }
    out[i] = v;
    outClasses![i] = cls;
  }
  const node = out === undefined ? parent : nodeOf(out, outClasses!, outAll);
  (parent.derived ??= new Map()).set(step.fn, node);
  return node;
}

/**
 * Verdict offsets of a node's values after its step; a value the step left unchanged keeps its
 * parent's verdict, and a value equal to one scanned earlier in the walk shares its verdict. A
 * changed value is scanned without looking it up in the call's verdict map first: nearly all are
 * new strings, whose hashing and lookup cost about what the scan does.
 */
function offsetsOf(cache: EvaluationCache, vals: readonly string[], before: readonly string[], parentOffsets: Int32Array): Int32Array {
  const out = new Int32Array(vals.length);
  forgetLengths();
  for (let i = 0; i < vals.length; i++) {
    if (before[i] === vals[i]) {
      out[i] = parentOffsets[i]!;
      continue;
    }
    const j = earlierEqual(vals, i);
    if (j >= 0) {
      out[i] = out[j]!;
      continue;
    }
    const offset = cache.allocVerdict();
    cache.prefilter.scanInto(vals[i]!, cache.verdicts, offset);
    out[i] = offset;
  }
  return out;
}

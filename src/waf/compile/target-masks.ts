import type { Rule } from '../types.js';
import { variableSlots } from './targets.js';

/** Variables whose values change while a phase runs (TX, MATCHED_*, REQBODY_PROCESSOR): their presence cannot be decided at a phase's start. */
export const VOLATILE = new Set(['TX', 'MATCHED_VAR', 'MATCHED_VARS', 'MATCHED_VAR_NAME', 'MATCHED_VARS_NAMES', 'REQBODY_PROCESSOR']);

/** One bit per variable name: 32 names fit (the CRS's rules read 27); 32 more for keys. */
const MAX_NAMES = 32;

/** What one bit stands for: a variable read whole (no key), or a keyed selection with a plain key (`REQUEST_HEADERS:User-Agent`). */
export interface MaskSource {
  readonly collection: string;
  /** Lower-cased, as Collection.byKey takes it. */
  readonly key: string | undefined;
  /** The collection's slot among the scalars, and among the collections, or -1 (Selector.scalarSlot, .collectionSlot). */
  readonly scalarSlot: number;
  readonly collectionSlot: number;
}

export interface TargetMasks {
  /** The variable of each bit of `masks`. */
  readonly names: readonly MaskSource[];
  /** The key of each bit of `keyMasks`. */
  readonly keys: readonly MaskSource[];
  /** Per phase, the bits of the names its masked rules read (what a phase must look up). */
  readonly phaseBits: readonly number[];
  readonly phaseKeyBits: readonly number[];
  /**
   * Per phase and rule index: the bits of the variables the rule's head reads, or 0 when the rule
   * must always be evaluated. A rule with a mask can only match when one of those variables has a
   * value: with none (a GET has no ARGS, cookies, XML or body) it is skipped without being read.
   * A keyed selection sets its bit in `keyMasks` instead (a GET without a User-Agent skips the
   * rules on that header alone), or, past 32 keys, its collection's bit here.
   */
  readonly masks: readonly Uint32Array[];
  readonly keyMasks: readonly Uint32Array[];
}

/**
 * Masks for the rules whose head reads only fixed variables (no count, no TX or MATCHED_*): an
 * empty selection runs no operator, so such a rule cannot match when all of them are empty,
 * negated operator or not. SecActions and count selectors (`&ARGS @eq 0` matches on nothing) have none.
 */
export function planTargetMasks(phases: readonly (readonly Rule[])[]): TargetMasks {
  const bits = new Map<string, number>();
  const keyBits = new Map<string, number>();
  const keys: MaskSource[] = [];
  const bitOf = (map: Map<string, number>, name: string): number | undefined => {
    let bit = map.get(name);
    if (bit === undefined && map.size < MAX_NAMES) map.set(name, (bit = map.size));
    return bit;
  };
  const masksOf = (rule: Rule): [number, number] => {
    if (rule.marker !== undefined || rule.targets.length === 0) return [0, 0];
    let mask = 0;
    let keyMask = 0;
    for (const sel of rule.targets) {
      if (sel.kind === 'count' || VOLATILE.has(sel.collection)) return [0, 0];
      if (sel.kind === 'keyed' && sel.key !== undefined && sel.keyRegex === undefined) {
        const name = `${sel.collection}:${sel.key}`;
        const keyBit = bitOf(keyBits, name);
        if (keyBit !== undefined) {
          if (keys.length === keyBit) keys.push({ collection: sel.collection, key: sel.key, scalarSlot: sel.scalarSlot, collectionSlot: sel.collectionSlot });
          keyMask |= 1 << keyBit;
          continue;
        }
      }
      const bit = bitOf(bits, sel.collection);
      if (bit === undefined) return [0, 0];
      mask |= 1 << bit;
    }
    return [mask, keyMask];
  };
  const both = phases.map((list) => list.map(masksOf));
  const masks = both.map((list) => Uint32Array.from(list, ([m]) => m));
  const keyMasks = both.map((list) => Uint32Array.from(list, ([, k]) => k));
  const union = (m: Uint32Array) => m.reduce((all, x) => all | x, 0) >>> 0;
  return { names: [...bits.keys()].map((collection) => ({ collection, key: undefined, ...variableSlots(collection) })), keys, phaseBits: masks.map(union), phaseKeyBits: keyMasks.map(union), masks, keyMasks };
}

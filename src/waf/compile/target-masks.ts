import type { Rule } from '../types.js';

/** Variables whose values change while a phase runs (TX, MATCHED_*, REQBODY_PROCESSOR): their presence cannot be decided at a phase's start. */
export const VOLATILE = new Set(['TX', 'MATCHED_VAR', 'MATCHED_VARS', 'MATCHED_VAR_NAME', 'MATCHED_VARS_NAMES', 'REQBODY_PROCESSOR']);

/** One bit per variable name: 32 names fit (the CRS's rules read 27). */
const MAX_NAMES = 32;

export interface TargetMasks {
  /** The name of each bit. */
  readonly names: readonly string[];
  /** Per phase, the bits of the names its masked rules read (what a phase must look up). */
  readonly phaseBits: readonly number[];
  /**
   * Per phase and rule index: the bits of the variables the rule's head reads, or 0 when the rule
   * must always be evaluated. A rule with a mask can only match when one of those variables has a
   * value: with none (a GET has no ARGS, cookies, XML or body) it is skipped without being read.
   */
  readonly masks: readonly Uint32Array[];
}

/**
 * Masks for the rules whose head reads only fixed variables (no count, no TX or MATCHED_*): an
 * empty selection runs no operator, so such a rule cannot match when all of them are empty,
 * negated operator or not. SecActions and count selectors (`&ARGS @eq 0` matches on nothing) have none.
 */
export function planTargetMasks(phases: readonly (readonly Rule[])[]): TargetMasks {
  const bits = new Map<string, number>();
  const maskOf = (rule: Rule): number => {
    if (rule.marker !== undefined || rule.targets.length === 0) return 0;
    let mask = 0;
    for (const sel of rule.targets) {
      if (sel.kind === 'count' || VOLATILE.has(sel.collection)) return 0;
      let bit = bits.get(sel.collection);
      if (bit === undefined) {
        if (bits.size === MAX_NAMES) return 0;
        bits.set(sel.collection, (bit = bits.size));
      }
      mask |= 1 << bit;
    }
    return mask;
  };
  const masks = phases.map((list) => Uint32Array.from(list, maskOf));
  const phaseBits = masks.map((m) => m.reduce((all, x) => all | x, 0) >>> 0);
  return { names: [...bits.keys()], phaseBits, masks };
}

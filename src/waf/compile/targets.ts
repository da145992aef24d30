import type { RawVariable } from '../seclang/variables-parse.js';
import type { Exclusion, Selector } from '../types.js';
import { compilePcre } from '../regex/translate.js';

/** Key regexes (`ARGS:/^id_/`) are case-insensitive, as ModSecurity matches collection keys. */
function keyRegex(raw: RawVariable): RegExp | undefined {
  return raw.keyIsRegex && raw.key !== undefined ? compilePcre(raw.key, 'i') : undefined;
}

export function toSelector(raw: RawVariable): Selector {
  const re = keyRegex(raw);
  const key = re ? undefined : raw.key?.toLowerCase();
  return { collection: raw.collection, key, keyRegex: re, count: raw.count, countName: `&${raw.collection}${key ? ':' + key : ''}` };
}

export function toExclusion(raw: RawVariable): Exclusion {
  const re = keyRegex(raw);
  return { collection: raw.collection, key: re ? undefined : raw.key?.toLowerCase(), keyRegex: re };
}

/** Splits a parsed target list into what the rule inspects and what it must skip (`!`). */
export function splitTargets(raws: readonly RawVariable[]): { targets: Selector[]; exclusions: Exclusion[] } {
  const targets: Selector[] = [];
  const exclusions: Exclusion[] = [];
  for (const raw of raws) {
    if (raw.exclude) exclusions.push(toExclusion(raw));
    else targets.push(toSelector(raw));
  }
  return { targets, exclusions };
}

/** `12345`, `100-200`, and lists of them separated by spaces or commas. */
export function parseIdRanges(text: string): [number, number][] {
  return text
    .split(/[\s,]+/)
    .filter((t) => t !== '')
    .map((t) => {
      const [lo, hi] = t.split('-').map(Number);
      if (lo === undefined || Number.isNaN(lo) || (hi !== undefined && Number.isNaN(hi))) throw new Error(`bad rule id or range "${t}"`);
      return [lo, hi ?? lo] as [number, number];
    });
}

export function inRanges(id: number, ranges: readonly (readonly [number, number])[]): boolean {
  for (const [lo, hi] of ranges) if (id >= lo && id <= hi) return true;
  return false;
}

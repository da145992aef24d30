import type { RawVariable } from '../seclang/variables-parse.js';
import type { Exclusion, Selector, SelectorKind, VarEntry } from '../types.js';
import { compilePcre } from '../regex/translate.js';
import { intern, internOrUndefined } from './intern.js';
import { scalarSlot } from '../variables/scalars.js';
import { COLLECTION_SLOTS } from '../variables/collection.js';
import { namedEntry } from '../variables/entry.js';

/** A variable's slots among the scalars and among a transaction's collections (-1: none), found at load. */
export function variableSlots(collection: string): { readonly scalarSlot: number; readonly collectionSlot: number } {
  return { scalarSlot: scalarSlot(collection), collectionSlot: COLLECTION_SLOTS.slotOf(collection) };
}

/** Key regexes (`ARGS:/^id_/`) are case-insensitive, as ModSecurity matches collection keys. */
function keyRegex(raw: RawVariable): RegExp | undefined {
  return raw.keyIsRegex && raw.key !== undefined ? compilePcre(raw.key, 'i') : undefined;
}

/** Counts up to this get a prebuilt entry list (a GET's counts are of a few headers or TX names). */
const PREBUILT_COUNTS = 16;

export function toSelector(raw: RawVariable): Selector {
  const re = keyRegex(raw);
  const key = re ? undefined : internOrUndefined(raw.key?.toLowerCase());
  const collection = intern(raw.collection);
  const countName = `&${raw.collection}${key ? ':' + key : ''}`;
  const countLists: (readonly VarEntry[])[] = [];
  if (raw.count) for (let n = 0; n <= PREBUILT_COUNTS; n++) countLists.push([namedEntry(countName, key ?? '', String(n))]);
  return { collection, key, keyRegex: re, countName, kind: kindOf(collection, key, re, raw.count), countLists, ...variableSlots(collection) };
}

function kindOf(collection: string, key: string | undefined, re: RegExp | undefined, count: boolean): SelectorKind {
  if (count) return 'count';
  if (collection === 'TX' && key !== undefined) return 'txKey';
  return key !== undefined || re !== undefined ? 'keyed' : 'whole';
}

export function toExclusion(raw: RawVariable): Exclusion {
  const re = keyRegex(raw);
  return { collection: intern(raw.collection), key: re ? undefined : internOrUndefined(raw.key?.toLowerCase()), keyRegex: re };
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

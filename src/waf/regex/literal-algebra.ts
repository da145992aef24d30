/**
 * The algebra behind regex/literals.ts: what a sub-pattern is known to match, combined over
 * concatenation, alternation and repetition. Each rule is sound on its own: what it says every
 * match contains, every match contains; when in doubt it says less (no exact strings, no requirement).
 */

/** What a sub-pattern is known to match: its exact strings (when few), or strings one of which it contains. */
export interface Info {
  /** Every string the sub-pattern can match, case-folded; undefined when unknown or too many. */
  readonly exact: readonly string[] | undefined;
  /** One of these occurs in every match; undefined when nothing is required. */
  readonly req: readonly string[] | undefined;
  /** Further sets, each also required (a concatenation requires each of its parts'). */
  readonly also?: readonly (readonly string[])[];
}

const MAX_EXACT = 64;
const MAX_REQ = 1024;
export const ANY: Info = { exact: undefined, req: undefined };
export const EMPTY: Info = { exact: [''], req: undefined };
/** A sub-pattern that cannot match at all: every char it needs is excluded (see literals.ts). */
export const NEVER: Info = { exact: [], req: undefined };

export function isNever(info: Info): boolean {
  return info.exact !== undefined && info.exact.length === 0;
}

function isEmpty(info: Info): boolean {
  return info.exact !== undefined && info.exact.length === 1 && info.exact[0] === '';
}

export class Unsupported extends Error {}

function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** A requirement set, or undefined when it includes the empty string (always satisfied). */
export function asReq(list: readonly string[] | undefined): readonly string[] | undefined {
  if (list === undefined || list.length === 0 || list.includes('')) return undefined;
  return list;
}

export function reqOf(info: Info): readonly string[] | undefined {
  return asReq(info.exact) ?? info.req;
}

function shortest(list: readonly string[]): number {
  let min = Infinity;
  for (const s of list) if (s.length < min) min = s.length;
  return min;
}

/** The more selective requirement: longer shortest literal first, then fewer literals. */
export function better(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const minA = shortest(a);
  const minB = shortest(b);
  if (minA !== minB) return minA > minB ? a : b;
  return a.length <= b.length ? a : b;
}

export function concat(a: Info, b: Info): Info {
  if (isNever(a) || isNever(b)) return NEVER;
  // The empty string on one side (an optional part that cannot match, `^`, `\b`) changes nothing.
  if (isEmpty(a) && b.exact !== undefined) return b;
  if (isEmpty(b) && a.exact !== undefined) return a;
  let exact: string[] | undefined;
  if (a.exact !== undefined && b.exact !== undefined && a.exact.length * b.exact.length <= MAX_EXACT) {
    exact = dedupe(a.exact.flatMap((x) => b.exact!.map((y) => x + y)));
  }
  return { exact, req: better(asReq(exact), better(reqOf(a), reqOf(b))) };
}

export function alternate(all: readonly Info[]): Info {
  // A branch that cannot match adds no string and no requirement.
  const list = all.filter((info) => !isNever(info));
  if (list.length === 0) return NEVER;
  let exact: string[] | undefined = [];
  let req: string[] | undefined = [];
  for (const info of list) {
    exact = exact !== undefined && info.exact !== undefined ? [...exact, ...info.exact] : undefined;
    const r = reqOf(info);
    req = req !== undefined && r !== undefined ? [...req, ...r] : undefined;
  }
  if (exact !== undefined) exact = dedupe(exact);
  if (exact !== undefined && exact.length > MAX_EXACT) exact = undefined;
  if (req !== undefined) req = dedupe(req);
  if (req !== undefined && req.length > MAX_REQ) req = undefined;
  return { exact, req };
}

export function repeat(info: Info, min: number, max: number): Info {
  if (min === 1 && max === 1) return info;
  if (isNever(info)) return min === 0 ? EMPTY : NEVER;
  if (min === 0) return max === 1 && info.exact !== undefined ? { exact: dedupe(['', ...info.exact]), req: undefined } : ANY;
  return { exact: undefined, req: reqOf(info), also: info.also };
}

/** Every requirement the sub-pattern is known to have (all hold). */
export function allReqs(info: Info): (readonly string[])[] {
  const out = [...(info.also ?? [])];
  const r = reqOf(info);
  if (r !== undefined) out.push(r);
  return out;
}

/**
 * A Latin-1 char without case: it matches only itself, with or without `i` (without `u`, `i`
 * compares upper-cased chars, and no char upper-cases to a caseless symbol). `isCaselessByte`'s
 * test checks this against every UTF-16 code unit.
 */
export function isCaselessByte(c: number): boolean {
  if (c >= 256) return false;
  const ch = String.fromCharCode(c);
  return ch.toUpperCase() === ch && ch.toLowerCase() === ch;
}

/** Chars a class may have and still count as literals: `[\n\r;`{]` (CRS 932125's command separators) has 5. */
const MAX_CLASS = 8;

/**
 * One character set (a class or an escape), ASCII lower-cased, less the `excluded` chars (ASCII
 * non-letters: case folding leaves them as they are); undefined when large, or when it holds a
 * char >= 128 that has a case (`\xe9` also matches `\xc9` under `i`: not modelled). Caseless
 * Latin-1 symbols (`\xbc`, CRS 941310's evasion) are literals like ASCII ones. A set of excluded
 * chars only cannot match: NEVER.
 */
export function charsInfo(chars: Set<number> | undefined, excluded?: ReadonlySet<number>): Info {
  if (chars === undefined) return ANY;
  const folded = new Set<string>();
  for (const c of chars) {
    if (excluded?.has(c)) continue;
    if (c >= 128 && !isCaselessByte(c)) return ANY;
    folded.add(String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c));
  }
  if (folded.size === 0) return NEVER;
  return folded.size <= MAX_CLASS ? { exact: [...folded], req: undefined } : ANY;
}

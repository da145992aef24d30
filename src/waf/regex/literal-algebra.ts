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
  /**
   * Strings one of which every match starts with (`pre`) or ends with (`suf`), cut to AFFIX_LEN
   * chars; undefined when unknown. An exact sub-pattern's are its strings. They let a
   * concatenation require text across the joint: `t(?:ailf|ftp)` (CRS 932260's command list)
   * requires `tailf` or `tftp` where the parts alone required `t` (which every value holds).
   */
  readonly pre?: readonly string[];
  readonly suf?: readonly string[];
}

/** Affixes longer than this are cut (the prefilter cuts literals at 8 chars too). */
const AFFIX_LEN = 8;
/** More affixes than this are dropped: a requirement past MAX_REQ literals is dropped anyway. */
const MAX_AFFIXES = 512;

const headOf = (s: string) => (s.length > AFFIX_LEN ? s.slice(0, AFFIX_LEN) : s);
const tailOf = (s: string) => (s.length > AFFIX_LEN ? s.slice(-AFFIX_LEN) : s);

function capped(list: readonly string[]): readonly string[] | undefined {
  const out = dedupe(list);
  return out.length > MAX_AFFIXES ? undefined : out;
}

/** Strings every match of `info` starts with, or undefined. */
export function prefixesOf(info: Info): readonly string[] | undefined {
  return info.exact !== undefined ? capped(info.exact.map(headOf)) : info.pre;
}

/** Strings every match of `info` ends with, or undefined. */
export function suffixesOf(info: Info): readonly string[] | undefined {
  return info.exact !== undefined ? capped(info.exact.map(tailOf)) : info.suf;
}

/** Every `x + y` (cut by `cut`): the text across a joint. Undefined when either side is unknown or the product is too large. */
function across(left: readonly string[] | undefined, right: readonly string[] | undefined, cut?: (s: string) => string): string[] | undefined {
  if (left === undefined || right === undefined || left.length * right.length > MAX_REQ) return undefined;
  const out = new Set<string>();
  for (const x of left) for (const y of right) out.add(cut === undefined ? x + y : cut(x + y));
  return out.size > MAX_AFFIXES && cut !== undefined ? undefined : [...out];
}

const allAtLeast = (list: readonly string[], n: number) => list.every((x) => x.length >= n);

/** What a match of `a` then `b` is known to start and end with. */
export function jointAffixes(a: Info, b: Info): { pre: readonly string[] | undefined; suf: readonly string[] | undefined } {
  let pre = a.pre;
  if (a.exact !== undefined) {
    // A's exact strings begin every match; b's prefixes, when known, extend the short ones.
    pre = allAtLeast(a.exact, AFFIX_LEN) ? prefixesOf(a) : (across(a.exact, prefixesOf(b), headOf) ?? prefixesOf(a));
  }
  let suf = b.suf;
  if (b.exact !== undefined) {
    // B's exact strings end every match; a's suffixes, when known, come before the short ones.
    suf = allAtLeast(b.exact, AFFIX_LEN) ? suffixesOf(b) : (across(suffixesOf(a), b.exact, tailOf) ?? suffixesOf(b));
  }
  return { pre, suf };
}

/** The literal a match of `a` then `b` holds across the joint: `a`'s suffix then `b`'s prefix (some pair occurs in every match). */
export function acrossJoint(a: Info, b: Info): readonly string[] | undefined {
  return asReq(across(suffixesOf(a), prefixesOf(b)));
}

/** The exact strings of `a` then `b`, when both are exact and few enough. */
function exactProduct(a: Info, b: Info): string[] | undefined {
  if (a.exact === undefined || b.exact === undefined || a.exact.length * b.exact.length > MAX_EXACT) return undefined;
  return dedupe(a.exact.flatMap((x) => b.exact!.map((y) => x + y)));
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
  const exact = exactProduct(a, b);
  const { pre, suf } = jointAffixes(a, b);
  return { exact, req: better(asReq(exact), better(acrossJoint(a, b), better(reqOf(a), reqOf(b)))), pre, suf };
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
  // Every match is a match of one branch: it starts (ends) with one of that branch's affixes.
  return { exact, req, pre: unionOfAffixes(list.map(prefixesOf)), suf: unionOfAffixes(list.map(suffixesOf)) };
}

function unionOfAffixes(lists: readonly (readonly string[] | undefined)[]): readonly string[] | undefined {
  if (lists.some((l) => l === undefined)) return undefined;
  return capped(lists.flatMap((l) => l!));
}

export function repeat(info: Info, min: number, max: number): Info {
  if (min === 1 && max === 1) return info;
  if (isNever(info)) return min === 0 ? EMPTY : NEVER;
  if (min === 0) return max === 1 && info.exact !== undefined ? { exact: dedupe(['', ...info.exact]), req: undefined } : ANY;
  // The first repetition starts every match, the last ends it.
  return { exact: undefined, req: reqOf(info), also: info.also, pre: prefixesOf(info), suf: suffixesOf(info) };
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
export const MAX_CLASS = 8;

/**
 * One character set (a class or an escape), ASCII lower-cased, less the `excluded` chars (ASCII
 * non-letters: case folding leaves them as they are); undefined when large, or when it holds a
 * char >= 128 that has a case (`\xe9` also matches `\xc9` under `i`: not modelled). Caseless
 * Latin-1 symbols (`\xbc`, CRS 941310's evasion) are literals like ASCII ones. A set of excluded
 * chars only cannot match: NEVER.
 */
export function charsInfo(chars: Set<number> | undefined, excluded?: ReadonlySet<number>, maxClass = MAX_CLASS): Info {
  if (chars === undefined) return ANY;
  const folded = new Set<string>();
  for (const c of chars) {
    if (excluded?.has(c)) continue;
    if (c >= 128 && !isCaselessByte(c)) return ANY;
    folded.add(String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c));
  }
  if (folded.size === 0) return NEVER;
  return folded.size <= maxClass ? { exact: [...folded], req: undefined } : ANY;
}

import { allLiteralSets } from './literals.js';
import { guardedExec } from './budget.js';
import { scanOutside } from './source-scan.js';

/**
 * Alternation branches a long value cannot match, cut out before the match runs.
 *
 * Why: V8's matcher backtracks. A branch such as 942340's `[^0-9A-Z_a-z]+[\+\-0-9A-Z_a-z]+\s*?=...`,
 * tried after each quote of a long run of punctuation, scans to the end of the run and back every
 * time: quadratic. On the regression suite's 942521-17 (3.5 KB of quotes and punctuation) 942340
 * took 4.7 ms, 0.14 ms without that branch. The branch needs a `=`, which the value lacks.
 *
 * How: at compile time, every branch of an alternation (in a group or at the top) that has an
 * unbounded repetition, no capturing group, and required sets of single chars (regex/literals.ts:
 * every text the branch matches holds one char of each set) is a candidate. At match time, a value
 * of at least MIN_LENGTH chars that holds no char of one of a candidate's sets is matched with that
 * branch replaced by `(?!)`, which matches nothing; one that holds no char of one of the whole
 * pattern's sets is not matched at all (the same argument, for the pattern as one branch).
 *
 * Equivalence: wherever the matcher tries the branch, the text it could match is a substring of
 * the value, so it would hold one char of each set (ASCII case folded, the domain the literals
 * are proven in); the value holds none of one set, so the branch fails everywhere, exactly as `(?!)` does. Every
 * other path of the backtracking search is unchanged, so the match and its captures are the same.
 * Without capturing groups in the branch the group numbers stay the same. Lookarounds and
 * backreferences inside the branch are unknown text to the literal parser (no requirement), so its
 * literals hold whatever they read outside the branch.
 */

/** Shorter values are matched as they are: their backtracking is cheap, and the check is not free. */
export const MIN_LENGTH = 128;
/**
 * The largest char class whose chars count as a requirement here (the prefilter keeps 8): `\d`
 * is 10, `[0-9a-f]` 16.
 */
const MAX_CLASS = 16;
/** Sets checked per branch (the smallest kept: the most likely to be absent). */
const MAX_SETS = 4;
/** Candidates per pattern (the longest kept): variants are keyed by which of them are cut. */
const MAX_CANDIDATES = 8;
/**
 * Variants compiled per pattern; past it the full pattern runs (never wrong, only slower). Bounds
 * what crafted values can make the engine compile: ~120 CRS patterns have candidates, and a
 * variant costs about 0.4 ms to compile once.
 */
const MAX_VARIANTS = 16;

interface Candidate {
  readonly start: number;
  readonly end: number;
  /**
   * Sets of single chars (ASCII lower-cased char codes): every text the branch matches holds one
   * char of each set. Single chars only, so that one pass over a value tells every candidate of
   * every pattern whether it can match (`presenceOf`); a longer literal would cost a search of the
   * value per literal and per rule.
   */
  readonly sets: readonly (readonly number[])[];
}

/** Length of a group's opener after `(`: `?:`, `?=`, `?!`, `?<=`, `?<!`, `?<name>`, or none (capturing). */
function openerLength(src: string, i: number): number {
  if (src[i + 1] !== '?') return 0;
  if (src.startsWith('?<=', i + 1) || src.startsWith('?<!', i + 1)) return 3;
  if (src[i + 2] === '<') return src.indexOf('>', i) - i;
  return 2;
}

/** The [start, end) spans of every branch of every alternation with two or more branches. */
export function branchSpans(src: string): [number, number][] {
  const out: [number, number][] = [];
  const stack: { branchStart: number; spans: [number, number][] }[] = [{ branchStart: 0, spans: [] }];
  const close = (end: number) => {
    const frame = stack.pop()!;
    if (frame.spans.length > 0) out.push(...frame.spans, [frame.branchStart, end]);
  };
  let skipTo = -1;
  scanOutside(src, (i, ch) => {
    if (i < skipTo) return;
    if (ch === '(') {
      const start = i + 1 + openerLength(src, i);
      stack.push({ branchStart: start, spans: [] });
      skipTo = start;
    } else if (ch === '|') {
      const frame = stack.at(-1)!;
      frame.spans.push([frame.branchStart, i]);
      frame.branchStart = i + 1;
    } else if (ch === ')' && stack.length > 1) close(i);
  });
  close(src.length);
  return out;
}

function hasCapturingGroup(text: string): boolean {
  let found = false;
  scanOutside(text, (i, ch) => (found = ch === '(' && (text[i + 1] !== '?' || (text[i + 2] === '<' && text[i + 3] !== '=' && text[i + 3] !== '!'))));
  return found;
}

function hasUnboundedRepeat(text: string): boolean {
  let found = false;
  scanOutside(text, (i, ch) => (found = ch === '+' || ch === '*' || (ch === '{' && /^\{\d+,\}/.test(text.slice(i, i + 12)))));
  return found;
}

/**
 * The sets of single chars one of which every match of `text` holds (char codes), the smallest
 * first. A set of longer literals gives two: their first chars and their last chars (a match holds
 * one of the literals, so it holds that literal's first char and its last).
 */
export function singleCharSets(text: string): number[][] {
  const seen = new Set<string>();
  const out: number[][] = [];
  for (const set of allLiteralSets(text, undefined, undefined, MAX_CLASS) ?? []) {
    if (set.length === 0 || set.includes('')) continue;
    for (const chars of [set.map((l) => l.charCodeAt(0)), set.map((l) => l.charCodeAt(l.length - 1))]) {
      const unique = [...new Set(chars)].sort((a, b) => a - b);
      const key = unique.join(',');
      if (!seen.has(key)) [seen.add(key), out.push(unique)];
    }
  }
  return out.sort((a, b) => a.length - b.length).slice(0, MAX_SETS);
}

/** The branches of `source` that may be cut (see above), the longest first. */
export function pruneCandidates(source: string): Candidate[] {
  const out: Candidate[] = [];
  for (const [start, end] of branchSpans(source)) {
    const text = source.slice(start, end);
    if (text === '' || !hasUnboundedRepeat(text) || hasCapturingGroup(text)) continue;
    const sets = singleCharSets(text);
    if (sets.length > 0) out.push({ start, end, sets });
  }
  return out.sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, MAX_CANDIDATES);
}

/** `source` with the branches of `cut` replaced by `(?!)` (a branch inside one already cut is gone with it). */
export function cutSource(source: string, cut: readonly Candidate[]): string {
  const spans = [...cut].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const { start, end } of spans) {
    if (start < at) continue;
    out += `${source.slice(at, start)}(?!)`;
    at = end;
  }
  return out + source.slice(at);
}

/**
 * Which chars (below 256, ASCII letters folded to lower case) the last long value holds: the
 * rules of a phase test the same value one after another, so one pass serves them all.
 */
const present = new Uint8Array(256);
let presentFor: string | undefined;

function presenceOf(input: string): Uint8Array {
  if (input !== presentFor) {
    present.fill(0);
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      if (c < 256) present[c >= 65 && c <= 90 ? c + 32 : c] = 1;
    }
    presentFor = input;
  }
  return present;
}

/** Lets go of the last value (EvaluationCache.reset: no request's value outlives its evaluation call). */
export function forgetPresence(): void {
  presentFor = undefined;
}

function lacksOne(chars: Uint8Array, sets: readonly (readonly number[])[]): boolean {
  return sets.some((set) => !set.some((c) => chars[c] === 1));
}

/** `re`'s exec from the start of the input, with the branches a long input cannot match cut out. */
export function prunedExec(re: RegExp): (input: string) => RegExpExecArray | null {
  const candidates = pruneCandidates(re.source);
  // The whole pattern's sets too: the prefilter checks no class of more than 8 chars (942490 needs
  // a digit, and ran 4 ms on 3.5 KB of punctuation without one).
  const whole = singleCharSets(re.source);
  if (candidates.length === 0 && whole.length === 0) return (input) => guardedExec(re, input);
  const variants = new Map<number, RegExp>();
  return (input) => {
    if (input.length < MIN_LENGTH) return guardedExec(re, input);
    const chars = presenceOf(input);
    if (lacksOne(chars, whole)) return null;
    let mask = 0;
    for (let k = 0; k < candidates.length; k++) if (lacksOne(chars, candidates[k]!.sets)) mask |= 1 << k;
    if (mask === 0) return guardedExec(re, input);
    let variant = variants.get(mask);
    if (variant === undefined) {
      if (variants.size >= MAX_VARIANTS) return guardedExec(re, input);
      variant = new RegExp(cutSource(re.source, candidates.filter((_, k) => (mask & (1 << k)) !== 0)), re.flags);
      // V8 runs a new pattern in its bytecode interpreter first and compiles it to machine code at
      // the next run: two runs on the empty string compile it now, before it meets a long value.
      variant.exec('');
      variant.exec('');
      variants.set(mask, variant);
    }
    return guardedExec(variant, input);
  };
}

/**
 * The chars a regex escape or class stands for, in the JavaScript source regex/literals.ts parses
 * (non-`u` mode): a set of char codes, or undefined when there are too many to be literals.
 */
import { MAX_CLASS, Unsupported } from './literal-algebra.js';

/** Where the parser is in the source. */
export interface Cursor {
  readonly src: string;
  i: number;
  /** The largest set kept as its chars (default 8, the prefilter's; `\d` counts from 10). */
  readonly maxClass?: number;
}

const DIGITS = new Set(Array.from({ length: 10 }, (_, k) => 48 + k));

/** The chars one escape stands for (at `cur.i`, the backslash); undefined when many. */
export function escapeChars(cur: Cursor, inClass: boolean): Set<number> | undefined {
  const { src } = cur;
  const next = src[cur.i + 1]!;
  cur.i += 2;
  const single = (code: number) => new Set([code]);
  if (next === 'x' || next === 'u') {
    const len = next === 'x' ? 2 : 4;
    const hex = src.slice(cur.i, cur.i + len);
    if (new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) {
      cur.i += len;
      return single(parseInt(hex, 16));
    }
    return single(next.charCodeAt(0));
  }
  if (next === 'c') {
    const letter = src[cur.i] ?? '';
    if (/[A-Za-z]/.test(letter)) {
      cur.i++;
      return single(letter.charCodeAt(0) % 32);
    }
    throw new Unsupported('\\c');
  }
  const controls: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11 };
  if (controls[next] !== undefined) return single(controls[next]!);
  if (next === '0' && !/\d/.test(src[cur.i] ?? '')) return single(0);
  if (next === 'd' && (cur.maxClass ?? MAX_CLASS) >= DIGITS.size) return new Set(DIGITS);
  if (/[dDwWsS]/.test(next)) return undefined;
  if (inClass && next === 'b') return single(8);
  if (/[A-Za-z0-9]/.test(next)) throw new Unsupported(`\\${next}`);
  return single(next.charCodeAt(0));
}

/** A character class (at `cur.i`, its `[`): its chars, or undefined when negated or large. */
export function parseClass(cur: Cursor): Set<number> | undefined {
  const { src } = cur;
  cur.i++;
  const negated = src[cur.i] === '^';
  if (negated) cur.i++;
  let chars: Set<number> | undefined = new Set();
  while (src[cur.i] !== ']') {
    if (cur.i >= src.length) throw new Unsupported('unterminated class');
    let one: Set<number> | undefined;
    if (src[cur.i] === '\\') one = escapeChars(cur, true);
    else one = new Set([src.charCodeAt(cur.i++)]);
    if (src[cur.i] === '-' && src[cur.i + 1] !== ']' && one?.size === 1) {
      // A range `a-z`: its low end is `one`, its high end the next atom.
      const lo = [...one][0]!;
      cur.i++;
      const hiSet = src[cur.i] === '\\' ? escapeChars(cur, true) : new Set([src.charCodeAt(cur.i++)]);
      if (hiSet === undefined || hiSet.size !== 1) throw new Unsupported('class range');
      const hi = [...hiSet][0]!;
      if (hi - lo > 16) chars = undefined;
      else for (let c = lo; c <= hi && chars !== undefined; c++) chars.add(c);
      continue;
    }
    if (one === undefined) chars = undefined;
    else if (chars !== undefined) for (const c of one) chars.add(c);
  }
  cur.i++;
  return negated || chars === undefined || chars.size > (cur.maxClass ?? MAX_CLASS) ? undefined : chars;
}

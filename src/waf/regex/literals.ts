/**
 * Required literals of a regular expression: sets of strings such that, for every set, one of its
 * strings occurs in every match (and so in every input the pattern matches). The engine's prefilter skips a pattern whose
 * literals are all absent from a value: the pattern cannot match it.
 *
 * Works on the JavaScript source the translator produced (non-`u` mode), in a case-folded domain:
 * literals are ASCII lower-cased and tested against the ASCII-lower-cased value. That is sound for
 * case-sensitive patterns (a match containing `Foo` lower-cases to one containing `foo`) and for
 * `i` patterns (without `u`, an ASCII letter matches only its two ASCII cases: ES Canonicalize
 * never maps a char >= 128 to one < 128). Non-ASCII characters are treated as unknown, but for
 * Latin-1 symbols that have no case (literal-algebra.ts), so case folding beyond ASCII never matters. Whatever this parser does not understand yields "no
 * requirement": the prefilter is then off for that pattern, never wrong.
 */

import { escapeChars, parseClass } from './char-sets.js';
import { ANY, EMPTY, MAX_CLASS, NEVER, Unsupported, allReqs, alternate, better, charsInfo, acrossJoint, concat, isNever, jointAffixes, reqOf, repeat, type Info } from './literal-algebra.js';

class Parser {
  i = 0;
  /**
   * `excluded`: chars assumed absent from the input; `mentioned` collects the chars of every small
   * char set parsed (see allLiteralSets); `maxClass`: the largest class kept as its chars.
   */
  constructor(
    readonly src: string,
    readonly excluded: ReadonlySet<number> | undefined,
    readonly mentioned: Set<number> | undefined,
    readonly maxClass = MAX_CLASS,
  ) {}

  private chars(set: Set<number> | undefined): Info {
    if (set !== undefined && this.mentioned !== undefined) for (const c of set) this.mentioned.add(c);
    return charsInfo(set, this.excluded, this.maxClass);
  }

  parseAlternation(): Info {
    const alts = [this.parseSequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.parseSequence());
    }
    return alts.length === 1 ? alts[0]! : alternate(alts);
  }

  /**
   * A concatenation, left to right: `run` is the exact strings of the atoms since the last inexact
   * one (so `\\s+select` still yields `select`), `req` the best requirement committed so far.
   * `sofar` is the whole sequence so far, for the text across each joint with an inexact part
   * (literal-algebra.ts, `acrossJoint`): `t(?:ailf|ftp)`, `\\s+select`.
   */
  private parseSequence(): Info {
    let run: Info = EMPTY;
    let req: readonly string[] | undefined;
    let allExact = true;
    let never = false;
    // Every part's requirement: all of them hold at once.
    const all: (readonly string[])[] = [];
    const add = (r: readonly string[] | undefined) => {
      if (r === undefined) return;
      all.push(r);
      req = better(req, r);
    };
    let sofar: Info = EMPTY;
    // What the inexact part before the current run ends with, when known.
    let before: readonly string[] | undefined;
    const commitRun = () => {
      if (before !== undefined) add(acrossJoint({ exact: undefined, req: undefined, suf: before }, run));
      before = undefined;
    };
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.parseQuantifier(this.parseAtom());
      // A part that cannot match makes the whole sequence unmatchable (parsed on to its end).
      if (isNever(atom)) never = true;
      if (atom.exact === undefined) add(acrossJoint(sofar, atom));
      else if (run === EMPTY && sofar.exact === undefined) before = sofar.suf;
      const joined = atom.exact === undefined ? undefined : concat(run, atom);
      // While every atom so far is exact, the run is the whole sequence so far.
      sofar = { exact: sofar.exact === undefined ? undefined : joined?.exact, req: undefined, ...jointAffixes(sofar, atom) };
      if (joined !== undefined) {
        if (joined.exact !== undefined) {
          run = joined;
          continue;
        }
        // Too many combinations: keep the better of what the run required, and start again.
        allExact = false;
        commitRun();
        add(joined.req);
        run = atom;
        continue;
      }
      allExact = false;
      commitRun();
      for (const r of [reqOf(run), ...allReqs(atom)]) if (r !== undefined) all.push(r);
      req = better(req, better(reqOf(run), reqOf(atom)));
      run = EMPTY;
    }
    if (never) return NEVER;
    if (allExact) return run;
    commitRun();
    const last = reqOf(run);
    if (last !== undefined) all.push(last);
    return { exact: undefined, req: better(req, last), also: all, pre: sofar.pre, suf: sofar.suf };
  }

  private parseQuantifier(atom: Info): Info {
    const { src } = this;
    const ch = src[this.i];
    let min: number;
    let max: number;
    if (ch === '*' || ch === '+' || ch === '?') {
      this.i++;
      [min, max] = ch === '*' ? [0, Infinity] : ch === '+' ? [1, Infinity] : [0, 1];
    } else if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(this.i, this.i + 24));
      // Without `u`, a brace that is not a quantifier is a literal `{` (parsed as an atom next).
      if (m === null) return atom;
      this.i += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    } else return atom;
    if (src[this.i] === '?') this.i++;
    return this.parseQuantifier(repeat(atom, min, max));
  }

  private parseAtom(): Info {
    const { src } = this;
    const ch = src[this.i]!;
    if (ch === '(') return this.parseGroup();
    if (ch === '[') return this.chars(parseClass(this));
    if (ch === '\\') return this.parseEscape();
    this.i++;
    if (ch === '^' || ch === '$') return EMPTY;
    if (ch === '.') return ANY;
    if (ch === '*' || ch === '+' || ch === '?') throw new Unsupported('nothing to repeat');
    return this.chars(new Set([ch.charCodeAt(0)]));
  }

  private parseGroup(): Info {
    const { src } = this;
    this.i++;
    let lookaround = false;
    if (src[this.i] === '?') {
      const rest = src.slice(this.i, this.i + 3);
      if (rest.startsWith('?:')) this.i += 2;
      else if (rest.startsWith('?=') || rest.startsWith('?!')) [this.i, lookaround] = [this.i + 2, true];
      else if (rest.startsWith('?<=') || rest.startsWith('?<!')) [this.i, lookaround] = [this.i + 3, true];
      else if (rest.startsWith('?<')) {
        const end = src.indexOf('>', this.i);
        if (end === -1) throw new Unsupported('group name');
        this.i = end + 1;
      } else throw new Unsupported(`group ${rest}`);
    }
    const inner = this.parseAlternation();
    if (src[this.i] !== ')') throw new Unsupported('unbalanced group');
    this.i++;
    // A lookaround consumes nothing: it adds nothing to (and requires nothing of) the match text.
    return lookaround ? EMPTY : inner;
  }

  /** An escape outside a class. */
  private parseEscape(): Info {
    const { src } = this;
    const next = src[this.i + 1];
    if (next === undefined) throw new Unsupported('trailing backslash');
    if (next === 'b' || next === 'B') {
      this.i += 2;
      return EMPTY;
    }
    if (/[1-9]/.test(next) || (next === 'k' && src[this.i + 2] === '<')) {
      // A backreference: matches text we do not know; it may be empty.
      this.i += 2;
      if (next === 'k') this.i = src.indexOf('>', this.i) + 1;
      else while (/\d/.test(src[this.i] ?? '')) this.i++;
      return ANY;
    }
    return this.chars(escapeChars(this, false));
  }
}

/** How many requirement sets a pattern keeps (each costs the prefilter a bit): the most selective. */
export const MAX_SETS = 3;

/**
 * The literals one of which occurs (ASCII lower-cased) in the ASCII-lower-cased input of every
 * match of `source`; undefined when none can be proven.
 */
export function requiredLiterals(source: string): readonly string[] | undefined {
  return requiredLiteralSets(source)?.[0];
}

/**
 * Sets of literals such that every match's input (ASCII lower-cased) holds one literal of EACH set,
 * the most selective first; undefined when none can be proven. `mentioned`: as allLiteralSets.
 */
export function requiredLiteralSets(source: string, mentioned?: Set<number>): readonly (readonly string[])[] | undefined {
  const sets = allLiteralSets(source, undefined, mentioned);
  sets?.sort((a, b) => (better(a, b) === a ? -1 : 1));
  return sets === undefined || sets.length === 0 ? undefined : withoutImplied(sets).slice(0, MAX_SETS);
}

/**
 * `sorted` (the best first) without the sets an earlier one implies, each of which would cost a
 * prefilter bit and check for nothing: `select` after ` select`. A set is implied when every
 * literal of the earlier one contains one of its literals (compared up to a bounded effort).
 */
export function withoutImplied(sorted: readonly (readonly string[])[]): (readonly string[])[] {
  const implies = (strong: readonly string[], weak: readonly string[]) =>
    strong.length * weak.length <= 100_000 && strong.every((s) => weak.some((w) => s.includes(w)));
  const kept: (readonly string[])[] = [];
  for (const set of sorted) if (!kept.some((k) => implies(k, set))) kept.push(set);
  return kept;
}

/**
 * Every distinct requirement set the parser proves for `source`, in no order; undefined when the
 * parser does not understand the pattern. With `excluded` (ASCII non-letters), each set holds
 * those chars as one-char literals too: the parse assumes they are absent from the input, so what
 * it proves holds only for inputs without them, and an input with one passes any set. When no
 * input without them can match, that is the one set. `mentioned`, when given, receives the chars
 * of every literal char and small class: excluding any other char changes nothing. `maxClass`:
 * classes up to this many chars (ASCII case folded) count as their chars (`\d` needs 10).
 */
export function allLiteralSets(source: string, excluded: ReadonlySet<number> | undefined, mentioned?: Set<number>, maxClass = MAX_CLASS): (readonly string[])[] | undefined {
  try {
    const parser = new Parser(source, excluded, mentioned, maxClass);
    const info = parser.parseAlternation();
    if (parser.i !== source.length) return undefined;
    const escapes = [...(excluded ?? [])].map((c) => String.fromCharCode(c));
    if (isNever(info)) return [escapes];
    const seen = new Set<string>();
    const sets: (readonly string[])[] = [];
    for (const req of allReqs(info)) {
      const set = [...req, ...escapes];
      const key = [...set].sort().join('\0');
      if (!seen.has(key)) [seen.add(key), sets.push(set)];
    }
    return sets;
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

/**
 * PCRE -> JavaScript regular expression translation for the constructs the CRS uses. Engine values
 * are latin1 strings (one char per byte), so patterns compile WITHOUT the `u` flag and match bytes
 * as PCRE does in non-UTF mode. ModSecurity v3 compiles with DOTALL and MULTILINE: so do we.
 *
 * In non-`u` mode JavaScript silently reads unknown escapes as literals (`\z` would match "z"), so
 * every PCRE-only escape is either rewritten here or refused with a reason.
 */

import { guardLeadingRuns } from './run-guard.js';

export class UnsupportedPatternError extends Error {
  constructor(pattern: string, why: string) {
    super(`unsupported PCRE construct (${why}) in ${pattern.length > 80 ? pattern.slice(0, 80) + '...' : pattern}`);
    this.name = 'UnsupportedPatternError';
  }
}

export interface TranslatedPattern {
  readonly source: string;
  readonly flags: string;
}

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\t-\\r ',
  xdigit: '0-9a-fA-F', word: '\\w', punct: '!-\\/:-@\\[-`{-~', blank: ' \\t', cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~', graph: '!-~',
};

/** Escapes that mean the same in both dialects (outside and inside classes). */
const SAME_ESCAPES = new Set('dDwWbBnrtfv0123456789.\\/^$|?*+()[]{}-'.split(''));
const SPACE_CLASS = '\\t-\\r ';

function hexEscape(code: number): string {
  return code <= 0xff ? '\\x' + code.toString(16).padStart(2, '0') : '\\u' + code.toString(16).padStart(4, '0');
}

/** Adds the other case of every ASCII letter in a class body (for `(?i:...)` groups). */
function caseFoldLetter(ch: string): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  return lower === upper ? ch : `[${lower}${upper}]`;
}

interface State {
  readonly src: string;
  i: number;
  out: string;
  /** Nesting depths at which a `(?i:` group opened; letters inside are case-folded by hand. */
  foldDepths: number[];
  depth: number;
}

/** Translates one escape at `st.i` (the backslash); `inClass` selects the class-body spelling. */
function translateEscape(st: State, inClass: boolean): string {
  const { src } = st;
  const next = src[st.i + 1];
  if (next === undefined) throw new UnsupportedPatternError(src, 'trailing backslash');
  st.i += 2;
  if (next === 'x' && src[st.i] === '{') {
    const end = src.indexOf('}', st.i);
    const code = parseInt(src.slice(st.i + 1, end), 16);
    st.i = end + 1;
    return hexEscape(code);
  }
  if (next === 'x') {
    const hex = /^[0-9a-fA-F]{1,2}/.exec(src.slice(st.i))?.[0] ?? '';
    st.i += hex.length;
    return hexEscape(hex === '' ? 0 : parseInt(hex, 16));
  }
  if (next === 's') return inClass ? SPACE_CLASS : `[${SPACE_CLASS}]`;
  if (next === 'S' && !inClass) return `[^${SPACE_CLASS}]`;
  if (next === 'h') return inClass ? '\\t \\xa0' : '[\\t \\xa0]';
  if (next === 'H' && !inClass) return '[^\\t \\xa0]';
  if (next === 'e') return '\\x1b';
  if (next === 'a') return '\\x07';
  if (!inClass) {
    if (next === 'z') return '(?![\\s\\S])';
    if (next === 'Z') return '(?=\\n?(?![\\s\\S]))';
    if (next === 'A') return '(?<![\\s\\S])';
    if (next === 'R') return '(?:\\r\\n|[\\n\\v\\f\\r\\x85])';
  }
  if (next === 'Q') {
    const end = src.indexOf('\\E', st.i);
    const literal = end === -1 ? src.slice(st.i) : src.slice(st.i, end);
    st.i = end === -1 ? src.length : end + 2;
    return literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  if (next === 'c' && /[A-Za-z]/.test(src[st.i] ?? '')) return `\\c${src[st.i++]}`;
  if (SAME_ESCAPES.has(next) || next === 'S') return '\\' + next;
  if (/[A-Za-z]/.test(next)) throw new UnsupportedPatternError(src, `\\${next}`);
  // Any other escaped punctuation is a literal in both dialects.
  return '\\' + next;
}

function translateClass(st: State, fold: boolean): string {
  const { src } = st;
  let out = '[';
  st.i++;
  if (src[st.i] === '^') {
    out += '^';
    st.i++;
  }
  // PCRE: a `]` first in the class is a literal; in JavaScript `[]` is the empty class.
  if (src[st.i] === ']') {
    out += '\\]';
    st.i++;
  }
  while (st.i < src.length && src[st.i] !== ']') {
    const ch = src[st.i]!;
    if (ch === '[' && src[st.i + 1] === ':') {
      const end = src.indexOf(':]', st.i);
      const name = src.slice(st.i + 2, end);
      const body = POSIX[name];
      if (end === -1 || body === undefined) throw new UnsupportedPatternError(src, `POSIX class ${name}`);
      out += body;
      st.i = end + 2;
    } else if (ch === '\\') out += translateEscape(st, true);
    else if (ch === '[') {
      out += '\\[';
      st.i++;
    } else {
      out += fold && /[A-Za-z]/.test(ch) ? ch.toLowerCase() + ch.toUpperCase() : ch;
      st.i++;
    }
  }
  if (st.i >= src.length) throw new UnsupportedPatternError(src, 'unterminated character class');
  st.i++;
  return out + ']';
}

/** `(?...` at st.i: returns the JavaScript opening, or '' for a flag-only group like `(?i)`. */
function translateGroupOpen(st: State, flags: Set<string>): string {
  const { src } = st;
  const rest = src.slice(st.i, st.i + 4);
  const flagGroup = /^\(\?([a-zA-Z-]+)(\)|:)/.exec(src.slice(st.i, st.i + 12));
  if (flagGroup) {
    st.i += flagGroup[0].length;
    const letters = flagGroup[1]!;
    if (letters.includes('-') || /[^ism]/.test(letters)) throw new UnsupportedPatternError(src, `inline flags (?${letters})`);
    if (flagGroup[2] === ')') {
      // A mid-pattern `(?i)` applies to the rest of its group; widening it to the whole pattern is the
      // approximation we accept (the CRS only puts it at the start).
      for (const f of letters) if (f !== 's' && f !== 'm') flags.add(f);
      return '';
    }
    st.depth++;
    if (letters.includes('i') && !flags.has('i')) st.foldDepths.push(st.depth);
    return '(?:';
  }
  st.depth++;
  if (rest.startsWith('(?>')) {
    st.i += 3;
    return '(?:';
  }
  if (rest.startsWith('(?P<')) {
    st.i += 4;
    return '(?<';
  }
  if (rest.startsWith('(?:') || rest.startsWith('(?=') || rest.startsWith('(?!') || rest.startsWith('(?<=') || rest.startsWith('(?<!')) {
    const len = rest.startsWith('(?<') ? 4 : 3;
    st.i += len;
    return rest.slice(0, len);
  }
  if (rest.startsWith('(?<')) {
    st.i += 3;
    return '(?<';
  }
  throw new UnsupportedPatternError(src, `group ${rest}`);
}

export function translatePcre(pattern: string): TranslatedPattern {
  const flags = new Set<string>();
  const st: State = { src: pattern, i: 0, out: '', foldDepths: [], depth: 0 };
  while (st.i < pattern.length) {
    const ch = pattern[st.i]!;
    const fold = st.foldDepths.length > 0 && !flags.has('i');
    if (ch === '\\') st.out += translateEscape(st, false);
    else if (ch === '[') st.out += translateClass(st, fold);
    else if (ch === '(' && pattern[st.i + 1] === '?') st.out += translateGroupOpen(st, flags);
    else if (ch === '(') {
      st.depth++;
      st.out += ch;
      st.i++;
    } else if (ch === ')') {
      if (st.foldDepths[st.foldDepths.length - 1] === st.depth) st.foldDepths.pop();
      st.depth--;
      st.out += ch;
      st.i++;
    } else if ((ch === '+') && /[*+?}]$/.test(st.out) && !st.out.endsWith('\\' + st.out.slice(-1))) {
      // Possessive quantifier: JavaScript has none; the greedy form matches the same strings here.
      st.i++;
    } else {
      st.out += fold && /[A-Za-z]/.test(ch) ? caseFoldLetter(ch) : ch;
      st.i++;
    }
  }
  return { source: guardLeadingRuns(st.out), flags: 'sm' + (flags.has('i') ? 'i' : '') };
}

/** Compiles a PCRE pattern as ModSecurity would run it; throws UnsupportedPatternError or SyntaxError. */
export function compilePcre(pattern: string, extraFlags = ''): RegExp {
  const { source, flags } = translatePcre(pattern);
  const all = new Set((flags + extraFlags).split(''));
  return new RegExp(source, [...all].join(''));
}

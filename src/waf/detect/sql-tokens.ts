/**
 * A small SQL tokenizer in the spirit of libinjection: it reads input as the start of a SQL
 * fragment and gives each token a one-letter type, so a detector can judge the shape of the
 * fragment (its "fingerprint") rather than its words. Written here: libinjection is C and its
 * JavaScript ports are unmaintained; this one only needs the token classes the detector uses.
 *
 * Types: s string, 1 number, n bareword, k keyword, U union, E statement keyword, & logic
 * operator, o operator, f function (a name followed by `(`), v variable, c comment, X a comment
 * SQL dialects read differently (ambiguousComment, below), and the punctuation ( ) , ; themselves.
 */
export interface SqlToken {
  readonly type: string;
  readonly text: string;
}

const STATEMENTS = 'select insert update delete drop create alter truncate exec execute declare shutdown waitfor replace merge call grant revoke rename handler load';
const KEYWORDS = 'from where having limit offset order group by into values table null case when then else end top as all distinct procedure join on set delay like rlike regexp in is between sounds collate escape exists asc desc';
const LOGIC = 'and or xor not';
export const STRONG_FUNCTIONS = new Set(
  'sleep benchmark pg_sleep extractvalue updatexml load_file xmltype dbms_pipe utl_inaddr utl_http sys_eval sys_exec char chr concat group_concat substring substr ascii version user database schema if ifnull md5 hex unhex ord mid cast convert count name_const make_set elt exp'.split(' '),
);

/** The token type of each word with one (lower-cased); other words are barewords (n). */
export const WORD_TYPES: ReadonlyMap<string, string> = new Map<string, string>();
const TYPE = WORD_TYPES as Map<string, string>;
for (const w of STATEMENTS.split(' ')) TYPE.set(w, 'E');
for (const w of KEYWORDS.split(' ')) TYPE.set(w, 'k');
for (const w of LOGIC.split(' ')) TYPE.set(w, '&');
TYPE.set('union', 'U');
TYPE.set('like', 'o');
TYPE.set('rlike', 'o');
TYPE.set('regexp', 'o');
TYPE.set('div', 'o');
TYPE.set('mod', 'o');
TYPE.set('is', 'o');

/** The words that tokenize as a union (U), a logic operator (&) or a statement (E). */
export const SHAPE_WORDS: ReadonlySet<string> = new Set([...TYPE].filter(([, type]) => type === 'U' || type === '&' || type === 'E').map(([word]) => word));

/*
 * Char classes by table, not by regex: the tokenizer runs on every value holding a `(` or a `;`
 * (a browser's User-Agent), and a regex test per char, on a one-char string cut out per char, made
 * a 45-char User-Agent cost ~6 us. The classes are those of the regexes they replace:
 * WORD `[A-Za-z0-9_$\x80-\xff.]`, SPACE `[\s\x00\xa0]`, DIGIT `[0-9]`; above 0xff only SPACE
 * holds chars (JavaScript's `\s`: U+2028, U+3000, ...), asked of the regex itself.
 */
const WORD = 1;
const SPACE = 2;
const DIGIT = 4;
const OPERATOR = 8;
const PUNCT = 16;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_$\x80-\xff.]/.test(ch)) CLASS[c]! |= WORD;
  if (/[\s\x00\xa0]/.test(ch)) CLASS[c]! |= SPACE;
  if (/[0-9]/.test(ch)) CLASS[c]! |= DIGIT;
  if ('=<>!|&^~+-*/%:'.includes(ch)) CLASS[c]! |= OPERATOR;
  if ('(),;'.includes(ch)) CLASS[c]! |= PUNCT;
}
const WIDE_SPACE = /\s/;

/** The classes of the char at `i` (0 past the end). */
function classAt(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  return c < 256 ? CLASS[c]! : WIDE_SPACE.test(s[i]!) ? SPACE : 0;
}

/** A number at the position the regex's lastIndex names (sticky: no copy of the rest of the input). */
const NUMBER = /0x[0-9a-fA-F]*|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?/y;

const QUOTE = 39;
const DOUBLE_QUOTE = 34;
const BACKSLASH = 92;

function readString(s: string, i: number, quote: number): [string, number] {
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === BACKSLASH) {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (s.charCodeAt(j + 1) === quote) {
        j += 2;
        continue;
      }
      return [s.slice(i, j), j + 1];
    }
    j++;
  }
  return [s.slice(i), s.length];
}

/**
 * Tokenizes `s`; with `quote`, the input is read as if it continued a string opened by that quote
 * (the case of a value pasted inside '...' by the application), as libinjection does.
 */
export function tokenizeSql(s: string, quote: '' | "'" | '"', max = 12): SqlToken[] {
  const out: SqlToken[] = [];
  let i = 0;
  if (quote !== '') {
    const [text, next] = readString(s, 0, quote.charCodeAt(0));
    out.push({ type: 's', text });
    i = next;
  }
  while (i < s.length && out.length < max) {
    const c = s.charCodeAt(i);
    const cls = classAt(s, i);
    const after = s.charCodeAt(i + 1);
    if ((cls & SPACE) !== 0) i++;
    else if (c === QUOTE || c === DOUBLE_QUOTE) {
      const [text, next] = readString(s, i + 1, c);
      out.push({ type: 's', text });
      i = next;
    } else if (c === 96 /* ` */) {
      const [text, next] = readString(s, i + 1, 96);
      out.push({ type: 'n', text });
      i = next;
    } else if ((c === 45 /* - */ && after === 45) || c === 35 /* # */) {
      const end = s.indexOf('\n', i);
      out.push({ type: 'c', text: s.slice(i, end === -1 ? s.length : end) });
      i = end === -1 ? s.length : end + 1;
    } else if (c === 47 /* / */ && after === 42 /* * */) {
      const end = s.indexOf('*/', i + 2);
      out.push({ type: ambiguousComment(s, i, end) ? 'X' : 'c', text: s.slice(i, end === -1 ? s.length : end + 2) });
      i = end === -1 ? s.length : end + 2;
    } else if (c === 64 /* @ */) {
      let j = i + 1;
      if (s.charCodeAt(j) === 64) j++;
      while ((classAt(s, j) & WORD) !== 0) j++;
      out.push({ type: 'v', text: s.slice(i, j) });
      i = j;
    } else if ((cls & DIGIT) !== 0 || (c === 46 /* . */ && (classAt(s, i + 1) & DIGIT) !== 0)) {
      NUMBER.lastIndex = i;
      const number = NUMBER.exec(s)![0];
      const len = Math.max(1, number.length);
      // `1e5` is a number, `1abc` a bareword: libinjection reads trailing letters as part of the token.
      const next = s.charCodeAt(i + len);
      if ((classAt(s, i + len) & WORD) !== 0 && (classAt(s, i + len) & DIGIT) === 0 && next !== 46) {
        let j = i + len;
        while ((classAt(s, j) & WORD) !== 0) j++;
        out.push({ type: 'n', text: s.slice(i, j) });
        i = j;
      } else {
        out.push({ type: '1', text: number });
        i += len;
      }
    } else if ((cls & WORD) !== 0) {
      let j = i;
      while ((classAt(s, j) & WORD) !== 0) j++;
      const lower = s.slice(i, j).toLowerCase();
      let k = j;
      while ((classAt(s, k) & SPACE) !== 0) k++;
      const type = s.charCodeAt(k) === 40 /* ( */ && STRONG_FUNCTIONS.has(lower) ? 'f' : (TYPE.get(lower) ?? 'n');
      out.push({ type, text: lower });
      i = j;
    } else if ((c === 124 /* | */ && after === 124) || (c === 38 /* & */ && after === 38)) {
      out.push({ type: '&', text: s.slice(i, i + 2) });
      i += 2;
    } else if ((cls & OPERATOR) !== 0) {
      out.push({ type: 'o', text: s[i]! });
      i++;
    } else if ((cls & PUNCT) !== 0) {
      out.push({ type: s[i]!, text: s[i]! });
      i++;
    } else {
      out.push({ type: '?', text: s[i]! });
      i++;
    }
  }
  return out;
}

// A block comment that databases read differently, as libinjection types it (TYPE_EVIL): one that
// holds `/*` before its end (PostgreSQL nests comments, MySQL does not: in `/*/*/2 union all` the
// comment ends before `2` for one and runs on for the other), or a MySQL conditional comment
// (`/*!`, whose content MySQL runs). No fingerprint of a fragment holding one can be trusted, so
// detectSqli flags it (CRS 942101-9: `/post/*/*/2+union+all/bar`). `end` is where the closing
// `*/` starts, -1 if nowhere.
function ambiguousComment(s: string, start: number, end: number): boolean {
  if (s.charCodeAt(start + 2) === 33 /* ! */) return true;
  // From after the opening `/*` through the closing `*`: `/*/*/` holds `/*` at 2.
  return end !== -1 && s.slice(start + 2, end + 1).includes('/*');
}

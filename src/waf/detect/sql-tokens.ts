/**
 * A small SQL tokenizer in the spirit of libinjection: it reads input as the start of a SQL
 * fragment and gives each token a one-letter type, so a detector can judge the shape of the
 * fragment (its "fingerprint") rather than its words. Written here: libinjection is C and its
 * JavaScript ports are unmaintained; this one only needs the token classes the detector uses.
 *
 * Types: s string, 1 number, n bareword, k keyword, U union, E statement keyword, & logic
 * operator, o operator, f function (a name followed by `(`), v variable, c comment, and the
 * punctuation ( ) , ; themselves.
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

const TYPE = new Map<string, string>();
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

const WORD = /[A-Za-z0-9_$\x80-\xff.]/;
const SPACE = /[\s\x00\xa0]/;
const OPERATORS = '=<>!|&^~+-*/%:';

function readString(s: string, i: number, quote: string): [string, number] {
  let j = i;
  while (j < s.length) {
    if (s[j] === '\\') {
      j += 2;
      continue;
    }
    if (s[j] === quote) {
      if (s[j + 1] === quote) {
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
    const [text, next] = readString(s, 0, quote);
    out.push({ type: 's', text });
    i = next;
  }
  while (i < s.length && out.length < max) {
    const ch = s[i]!;
    if (SPACE.test(ch)) i++;
    else if (ch === "'" || ch === '"') {
      const [text, next] = readString(s, i + 1, ch);
      out.push({ type: 's', text });
      i = next;
    } else if (ch === '`') {
      const [text, next] = readString(s, i + 1, '`');
      out.push({ type: 'n', text });
      i = next;
    } else if ((ch === '-' && s[i + 1] === '-') || ch === '#') {
      const end = s.indexOf('\n', i);
      out.push({ type: 'c', text: s.slice(i, end === -1 ? s.length : end) });
      i = end === -1 ? s.length : end + 1;
    } else if (ch === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      out.push({ type: 'c', text: s.slice(i, end === -1 ? s.length : end + 2) });
      i = end === -1 ? s.length : end + 2;
    } else if (ch === '@') {
      let j = i + 1;
      if (s[j] === '@') j++;
      while (j < s.length && WORD.test(s[j]!)) j++;
      out.push({ type: 'v', text: s.slice(i, j) });
      i = j;
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(s[i + 1] ?? ''))) {
      const m = /^(?:0x[0-9a-fA-F]*|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)/.exec(s.slice(i))!;
      const len = Math.max(1, m[0].length);
      // `1e5` is a number, `1abc` a bareword: libinjection reads trailing letters as part of the token.
      if (WORD.test(s[i + len] ?? '') && !/[0-9.]/.test(s[i + len]!)) {
        let j = i + len;
        while (j < s.length && WORD.test(s[j]!)) j++;
        out.push({ type: 'n', text: s.slice(i, j) });
        i = j;
      } else {
        out.push({ type: '1', text: m[0] });
        i += len;
      }
    } else if (WORD.test(ch)) {
      let j = i;
      while (j < s.length && WORD.test(s[j]!)) j++;
      const word = s.slice(i, j);
      const lower = word.toLowerCase();
      let k = j;
      while (k < s.length && SPACE.test(s[k]!)) k++;
      const type = s[k] === '(' && STRONG_FUNCTIONS.has(lower) ? 'f' : (TYPE.get(lower) ?? 'n');
      out.push({ type, text: lower });
      i = j;
    } else if ((ch === '|' && s[i + 1] === '|') || (ch === '&' && s[i + 1] === '&')) {
      out.push({ type: '&', text: ch + ch });
      i += 2;
    } else if (OPERATORS.includes(ch)) {
      out.push({ type: 'o', text: ch });
      i++;
    } else if ('(),;'.includes(ch)) {
      out.push({ type: ch, text: ch });
      i++;
    } else {
      out.push({ type: '?', text: ch });
      i++;
    }
  }
  return out;
}

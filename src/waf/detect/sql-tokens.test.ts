import { describe, expect, it } from 'vitest';
import { STRONG_FUNCTIONS, WORD_TYPES as TYPE, tokenizeSql, type SqlToken } from './sql-tokens.js';
import { mulberry32 } from '../../../test/helpers/seeded-random.js';

/*
 * The tokenizer reads chars by table since it was rewritten for speed; the regex-per-char version
 * it replaced is kept here as the oracle (with the tokenizer's own word table: what is compared is
 * how chars are read): every input must give the same tokens.
 */

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

function referenceTokenize(s: string, quote: '' | "'" | '"', max = 12): SqlToken[] {
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
      // libinjection's TYPE_EVIL: a MySQL conditional comment, or `/*` again before the end.
      const evil = s[i + 2] === '!' || (end !== -1 && /\/\*/.test(s.slice(i + 2, end + 1)));
      out.push({ type: evil ? 'X' : 'c', text: s.slice(i, end === -1 ? s.length : end + 2) });
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

// Fragments with meaning to the tokenizer, chars at the edges of its classes (Latin-1 word chars,
// NUL and NBSP as spaces, spaces and a lone surrogate above 0xff), numbers cut short.
const PIECES = [
  '1', '42', '0x1f', '0x', '0X1', '1.5', '.5', '5.', '1e5', '1e', '1e+', '2E-3', '1abc', '1.x', 'union', 'UNION', 'select', 'or',
  'And', 'sleep', 'SLEEP', 'char', 'from', 'null', 'abc', 'x', '_', '$', '.', ' ', '\t', '\n', '\r', '\0', '\xa0', '\u2028',
  '\u3000', '\ufeff', '\ud83d', '(', ')', ',', ';', '|', '||', '&', '&&', "'", "''", '"', '""', '`', '\\', '-', '--', '#',
  '/*', '*/', '/', '=', '<', '+', '!', '^', '~', '%', ':', '@', '@@', '?', '[', '\xe9', '\xff', '\u0100', 'Mozilla/5.0', 'x86_64',
];

describe('the SQL tokenizer', () => {
  const next = mulberry32(11);
  const samples = Array.from({ length: 40_000 }, () => Array.from({ length: 1 + (next() % 9) }, () => PIECES[next() % PIECES.length]).join(''));
  const real = [
    'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    "1' OR '1'='1", "x') UNION ALL SELECT NULL, @@version -- -", '-1 union select password from users#', "admin'/*", '0x414243',
    "2010-01-01'+sleep(20)+'", '`tbl`.`col`=1e5', "a\\'b", 'SELECT * FROM t WHERE a = "x""y"',
  ];

  it('gives the tokens of the regex-per-char version it replaced, on 40,000 random mixes and real values', () => {
    let tokens = 0;
    for (const s of [...real, ...samples]) {
      for (const quote of ['', "'", '"'] as const) {
        const got: SqlToken[] = tokenizeSql(s, quote);
        expect(got, JSON.stringify([s, quote])).toEqual(referenceTokenize(s, quote));
        tokens += got.length;
      }
    }
    // The mixes reach every branch: many tokens, of every type.
    expect(tokens).toBeGreaterThan(200_000);
    const types = new Set(samples.flatMap((s) => tokenizeSql(s, '').map((t) => t.type)));
    expect([...types].sort()).toEqual(['&', '(', ')', ',', '1', ';', '?', 'E', 'U', 'X', 'c', 'f', 'k', 'n', 'o', 's', 'v']);
  });

  it('stops at the token limit', () => {
    expect(tokenizeSql('a '.repeat(40), '')).toHaveLength(12);
    expect(tokenizeSql('a '.repeat(40), '', 3)).toHaveLength(3);
  });
});

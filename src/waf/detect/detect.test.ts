import { describe, expect, it } from 'vitest';
import { detectSqli, detectSqliUngated } from './sqli.js';
import { SQLI_LITERALS, mayHoldUnquotedSqli } from './sqli-gate.js';
import { SHAPE_WORDS } from './sql-tokens.js';
import { detectXss } from './xss.js';
import { mulberry32 } from '../../../test/helpers/seeded-random.js';

describe('@detectSQLi tokenizer', () => {
  const attacks = [
    "1' OR '1'='1", '1234 OR 1=1', "x') UNION ALL SELECT NULL --", "admin'--", '1;DROP TABLE users', 'sleep(5)',
    "foo' and sleep(12) --", '-1 union select password from users', "2010-01-01'+sleep(20)+'",
  ];
  const benign = [
    'hello world', "O'Reilly", "don't and won't", 'rock and roll', 'order by date', 'SELECT your plan',
    'Mozilla/5.0 (X11; Linux x86_64)', 'text/html,application/xhtml+xml', 'en-US,en;q=0.9', "Let's meet at 5 or 6",
  ];
  it.each(attacks)('flags %s', (value) => expect(detectSqli(value)).toBeDefined());
  it.each(benign)('lets %s through', (value) => expect(detectSqli(value)).toBeUndefined());

  it('flags a comment databases read differently, as libinjection does (CRS 942101-9)', () => {
    // PostgreSQL nests comments and MySQL does not: for MySQL `/*/*/` ends before `2 union all`.
    expect(detectSqli('/post/*/*/2+union+all/bar')).toContain('X');
    expect(detectSqli('/*/*/')).toBe('X');
    expect(detectSqli('x /* a /* b */ y')).toContain('X');
    // MySQL runs what a conditional comment holds.
    expect(detectSqli('1/*!50000union*/')).toContain('X');
    expect(detectSqli("x'/*!or*/1=1")).toContain('X');
    // Plain comments and globs are not that.
    for (const value of ['/* a comment */ hello', 'src/**/*.js', '/api/*/items', '/*unterminated /* comment']) expect(detectSqli(value), value).toBeUndefined();
  });
});

describe('@detectSQLi pre-check', () => {
  // Fragments the tokenizer gives meaning to, keywords glued to other word chars, and chars it
  // reads as words (Latin-1) or not (above 0xff).
  const pieces = [
    '1', '42', '0x1f', '1.5', '.5', '1e5', 'union', 'UNION', 'select', 'or', 'And', 'xor', 'not', 'sleep', 'from', 'null', 'order',
    'by', 'abc', 'x', '_', '$', '.', ' ', '\t', '\0', '\xa0', '(', ')', ';', '|', '||', '&', '&&', "'", '"', '`', '-', '--',
    '#', '/*', '*/', '=', '<', '+', '!', '@', '@@', ',', '\xe9', '\u0100', 'unionx', 'xor1', '1or',
  ];
  const next = mulberry32(5);
  const samples = Array.from({ length: 30_000 }, () => Array.from({ length: 1 + (next() % 7) }, () => pieces[next() % pieces.length]).join(''));

  it('changes no verdict on 30,000 random mixes of SQL fragments', () => {
    let flagged = 0;
    let gated = 0;
    for (const s of samples) {
      const full = detectSqliUngated(s);
      expect(detectSqli(s), JSON.stringify(s)).toBe(full);
      if (full !== undefined) flagged++;
      if (!mayHoldUnquotedSqli(s)) gated++;
    }
    // What the prefilter rules out (a value without one of SQLI_LITERALS, in any ASCII case) is never flagged.
    let ruledOut = 0;
    for (const s of samples) {
      const lower = s.replace(/[A-Z]/g, (c) => c.toLowerCase());
      if (SQLI_LITERALS.some((lit) => lower.includes(lit))) continue;
      ruledOut++;
      expect(detectSqliUngated(s), JSON.stringify(s)).toBeUndefined();
    }
    expect(ruledOut).toBeGreaterThan(1000);
    // Injections that each hold a single kind of literal: every one must be in the set.
    for (const s of ['1 or 1', '1 XOR 1', '1 and 1', '1 || 1', '1 && 1', '1 not 1', 'sleep(5)', '1;drop table x', "x'--", 'x"--', '1 UNION SELECT 1']) {
      expect(detectSqli(s), s).toBeDefined();
      expect(SQLI_LITERALS.some((lit) => s.toLowerCase().includes(lit)), s).toBe(true);
    }
    // Both sides are exercised: many injections, and many values the tokenizer never reads.
    expect(flagged).toBeGreaterThan(500);
    expect(gated).toBeGreaterThan(5000);
  });

  // The gate's definition: a trigger char, or a maximal run of word chars that lower-cases to a word
  // of SHAPE_WORDS (what the gate computed by slicing each run until it walked a trie instead).
  const byDefinition = (value: string): boolean =>
    /[;()|&]/.test(value) || value.includes('/*') || (value.match(/[A-Za-z0-9_$.\x80-\x9f\xa1-\xff]+/g) ?? []).some((run) => SHAPE_WORDS.has(run.toLowerCase()));

  it('agrees with its definition on 30,000 random mixes and on every keyword in any case, glued or cut', () => {
    for (const s of samples) expect(mayHoldUnquotedSqli(s), JSON.stringify(s)).toBe(byDefinition(s));
    for (const word of SHAPE_WORDS) {
      const upper = word.toUpperCase();
      for (const v of [word, upper, `x ${upper} y`, `1.${word}`, `${word}x`, `x${word}`, word.slice(0, -1), `${word}\u0100`, `${word}\xe9`, `\xe9${word}`]) {
        expect(mayHoldUnquotedSqli(v), JSON.stringify(v)).toBe(byDefinition(v));
      }
    }
  });

  it('lets ordinary values skip the tokenizer, but not a keyword, a call or a `;`', () => {
    for (const v of ['item number 7', 'a short description', 'json.items.7.note', 'A-1001', 'unionized', 'ordering']) expect(mayHoldUnquotedSqli(v)).toBe(false);
    for (const v of ['1 or 2', 'x UNION y', 'a;b', 'f(x)', 'a||b', 'DROP', 'x\u0100union', '1 \xa0or 1']) expect(mayHoldUnquotedSqli(v)).toBe(true);
    // NBSP is a Latin-1 word char inside a word, but the tokenizer skips it as a space before one.
    expect(detectSqli('1 \xa0or 1')).toBe('1&1');
  });
});

describe('@detectXSS tokenizer', () => {
  const attacks = [
    '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '" onmouseover="alert(1)', '<svg/onload=alert(1)>', 'javascript:alert(document.cookie)', '<iframe src=//evil>',
  ];
  const benign = ['hello <b>world</b>', 'a < b and c > d', 'Tom & Jerry', 'https://example.com/?a=1', '<p class="note">hi</p>', 'the onion = vegetable'];
  it.each(attacks)('flags %s', (value) => expect(detectXss(value)).toBe(true));
  it.each(benign)('lets %s through', (value) => expect(detectXss(value)).toBe(false));
});

import { describe, expect, it } from 'vitest';
import { NEVER_LENGTHENS, gatedTransform, lookupTransform } from './index.js';
import { mulberry32 } from '../../../test/helpers/seeded-random.js';

const t = (name: string, input: string) => lookupTransform(name)!(input);

describe('transformations (ModSecurity v3 semantics on bytes)', () => {
  it('base64Decode decodes the alphabet prefix exactly as Buffer does, short and long', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_. %\xe9';
    const random = seededFloats(3);
    for (let n = 0; n < 3000; n++) {
      let s = '';
      const len = n < 2900 ? n % 23 : 300 + n;
      for (let k = 0; k < len; k++) s += alphabet[Math.floor(random() * (k < len - 3 ? 64 : alphabet.length))];
      const prefix = /^[A-Za-z0-9+/]*/.exec(s)![0];
      expect(t('base64Decode', s)).toBe(Buffer.from(prefix, 'base64').toString('latin1'));
    }
    expect(t('base64Decode', 'PHNjcmlwdD4=')).toBe('<script>');
  });

  it('base64Decode gives each value its own decoding when consecutive values share a prefix or a length', () => {
    // The last short decoding is reused for an equal alphabet prefix: the values around a reuse must not get it.
    // Decodings are kept per prefix length mod 32: 'YWJj' x 9 (36 chars) and 'YWJj' share a slot.
    const values = ['json.items.0.id', 'a', 'json.items.1.id', 'jsoN.x', 'json', 'jso', 'json5', 'YWJj', 'YWJk', 'YWJj.', 'json.q', 'YWJj'.repeat(9), 'YWJj.x', 'YWJj'.repeat(9) + '-'];
    for (const v of values) expect(t('base64Decode', v)).toBe(Buffer.from(/^[A-Za-z0-9+/]*/.exec(v)![0], 'base64').toString('latin1'));
  });

  it('urlDecodeUni decodes %XX, %uHHHH (full-width to ASCII) and +, and keeps bad escapes', () => {
    expect(t('urlDecodeUni', '%27%u0041%uFF1C+%zz')).toBe("'A< %zz");
  });

  it('htmlEntityDecode handles numeric, hex and the named entities, with or without ;', () => {
    expect(t('htmlEntityDecode', '&#60;&#x3c;&lt&quot;&amp;x')).toBe('<<<"&x');
  });

  it('jsDecode and cssDecode undo JavaScript and CSS escapes', () => {
    expect(t('jsDecode', '\\x3cscript\\u003e\\n\\q')).toBe('<script>\nq');
    expect(t('cssDecode', 'j\\61vasc\\72 ipt\\:')).toBe('javascript:');
  });

  it('cmdLine removes quoting tricks and normalises separators', () => {
    expect(t('cmdLine', "C^at  '/etc/pa\"ss\"wd' ; ls")).toBe('cat/etc/passwd ls');
  });

  it('cmdLine returns ordinary text as it is and agrees with its char-by-char definition everywhere', () => {
    expect(t('cmdLine', 'item number 12')).toBe('item number 12');
    expect(t('cmdLine', 'a /b')).toBe('a/b');
    const alphabet = 'ab Z\\"\'^,;\t\r\n/(\xe9';
    const random = seededFloats(7);
    for (let n = 0; n < 20000; n++) {
      let s = '';
      for (let k = n % 9; k > 0; k--) s += alphabet[Math.floor(random() * alphabet.length)];
      expect(t('cmdLine', s)).toBe(cmdLineByDefinition(s));
    }
  });

  it('replaceComments, compressWhitespace, removeWhitespace, removeNulls, lowercase', () => {
    expect(t('replaceComments', 'a/*x*/b/*open')).toBe('a b ');
    expect(t('compressWhitespace', 'a \t\n b')).toBe('a b');
    expect(t('removeWhitespace', ' a\tb\xa0c ')).toBe('abc');
    expect(t('removeNulls', 'a\0b')).toBe('ab');
    expect(t('lowercase', 'ABC\xc9')).toBe('abc\xc9');
  });

  it('normalizePath resolves dot segments and normalizePathWin also backslashes', () => {
    expect(t('normalizePath', '/a/./b/../../c//d/')).toBe('/c/d/');
    expect(t('normalizePathWin', 'a\\..\\..\\etc\\passwd')).toBe('../etc/passwd');
  });

  it('utf8toUnicode, base64Decode, hexEncode, length, sha1', () => {
    expect(t('utf8toUnicode', Buffer.from('é<', 'utf8').toString('latin1'))).toBe('%u00e9<');
    expect(t('base64Decode', 'YWJj!ignored')).toBe('abc');
    expect(t('hexEncode', 'AB')).toBe('4142');
    expect(t('length', 'abcd')).toBe('4');
    expect(t('hexEncode', t('sha1', 'abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });
});

describe('lowercase and removeWhitespace against their byte-by-byte definitions', () => {
  // C tolower() in the "C" locale, and ModSecurity's removeWhitespace (isspace() plus NBSP).
  const lowerRef = (s: string) => [...s].map((c) => (c >= 'A' && c <= 'Z' ? c.toLowerCase() : c)).join('');
  const removeRef = (s: string) => [...s].filter((c) => !(c === ' ' || (c >= '\t' && c <= '\r') || c === '\xa0')).join('');
  const alphabet = ['A', 'z', 'Q', ' ', '\t', '\n', '\r', '\v', '\f', '\xa0', '\xb5', '\xc0', '\xc9', '\xd7', '\xde', '\xdf', '\xff', '\u0130', '1', '%', '\0'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const samples = Array.from({ length: 2000 }, () => Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length]).join(''));

  it('give the same strings on 2,000 random mixes of ASCII, Latin-1 and whitespace', () => {
    for (const s of samples) {
      expect(t('lowercase', s)).toBe(lowerRef(s));
      expect(t('removeWhitespace', s)).toBe(removeRef(s));
    }
  });
});

describe('transformations that never lengthen a value (length gates, compile/length-gates.ts)', () => {
  // Escape syntax of every decoder, so that most strings hold something to decode.
  const pieces = ['%', '%u', '%U', '+', '\\', '\\u', '\\x', '\\0', '&#', '&#x', ';', '&lt', '&quot;', '&nbsp', '/*', '*/', '--', '#', '/', '/.', '/..', '.', '..', '\\\n', 'F', 'f', '0', '7', 'ff', 'FF01', 'a', 'Z', ' ', '\t', '\n', '\0', '\xa0', '\xe9', '\xff', '\u0130', '^', ',', "'", '"', '(', 'YWJj', '='];
  const random = seededFloats(19);
  const samples = Array.from({ length: 4000 }, () => Array.from({ length: Math.floor(random() * 9) }, () => pieces[Math.floor(random() * pieces.length)]).join(''));

  it('each one listed gives an empty result for an empty value and never a longer one, on 4,000 escape-laden values', () => {
    for (const name of NEVER_LENGTHENS) {
      expect(t(name, ''), name).toBe('');
      for (const s of samples) expect(t(name, s).length, `${name}(${JSON.stringify(s)})`).toBeLessThanOrEqual(s.length);
    }
  });

  it('those left out can lengthen a value', () => {
    for (const [name, input] of [['length', ''], ['sha1', 'a'], ['md5', 'a'], ['hexEncode', 'a'], ['base64Encode', 'a'], ['urlEncode', '<'], ['utf8toUnicode', '\xc3\xa9'], ['normalizePath', '../..']] as const) {
      expect(NEVER_LENGTHENS.has(name.toLowerCase()), name).toBe(false);
      expect(t(name, input).length, name).toBeGreaterThan(input.length);
    }
  });

  it('a gated transformation gives what the transformation gives, or an empty string when that is shorter than the floor', () => {
    for (const name of ['base64Decode', 'urlDecodeUni', 'jsDecode']) {
      const fn = lookupTransform(name)!;
      for (const floor of [2, 4, 8]) {
        const gate = gatedTransform(name, floor);
        expect(gatedTransform(name.toUpperCase(), floor), 'one gate per name and floor').toBe(gate);
        for (const s of samples) {
          const out = fn(s);
          expect(gate(s), `${name}/${floor}(${JSON.stringify(s)})`).toBe(out.length < floor ? '' : out);
        }
      }
    }
    // base64Decode's gate counts the bytes without decoding: `json` gives 3, `json.x` too.
    expect(gatedTransform('base64Decode', 4)('json.items.0.id')).toBe('');
    expect(gatedTransform('base64Decode', 4)('ZXZhbCgx')).toBe('eval(1');
  });
});

/** ModSecurity's cmdLine one char at a time, as its documentation defines it: the oracle for the fast paths. */
function cmdLineByDefinition(s: string): string {
  let out = '';
  let space = false;
  for (const ch of s) {
    if ('\\"\'^'.includes(ch)) continue;
    if (',; \t\r\n'.includes(ch)) {
      if (!space) out += ' ';
      space = true;
      continue;
    }
    if ((ch === '/' || ch === '(') && space) out = out.slice(0, -1);
    space = false;
    out += ch >= 'A' && ch <= 'Z' ? ch.toLowerCase() : ch;
  }
  return out;
}

/** A seeded generator of floats in [0, 1) (mulberry32, test/helpers/seeded-random.ts). */
function seededFloats(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

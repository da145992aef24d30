import { describe, expect, it } from 'vitest';
import { lookupTransform } from './index.js';
import { ALWAYS, charClasses, triggerOf } from './triggers.js';

// Every transformation SecLang names, as the engine looks them up.
const NAMES = [
  'lowercase', 'uppercase', 'compressWhitespace', 'removeWhitespace', 'removeNulls', 'replaceNulls', 'replaceComments',
  'removeCommentsChar', 'removeComments', 'cmdLine', 'trim', 'trimLeft', 'trimRight', 'length', 'sha1', 'md5', 'hexEncode',
  'hexDecode', 'base64Decode', 'base64DecodeExt', 'base64Encode', 'urlEncode', 'urlDecode', 'urlDecodeUni', 'htmlEntityDecode',
  'jsDecode', 'cssDecode', 'escapeSeqDecode', 'utf8toUnicode', 'normalizePath', 'normalisePath', 'normalizePathWin', 'normalisePathWin',
];

// Every char class (triggers.ts) is represented, and chars of no class (letters, digits, `@`).
const ALPHABET = [
  'a', 'z', 'm', '0', '7', '@', '!', '?', '~', '=', 'A', 'Z', ' ', '\t', '\n', '\v', '\f', '\r', '\0', '%', '+', '&', '\\', '/', '.',
  '*', '-', '#', '"', "'", '^', ',', ';', '\xa0', '\xc3', '\xa9', '\xff', 'u', 'x', '2', 'f', 'e', ':', '<', '>', '(', ')',
];

let seed = 11;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
const randomString = (alphabet: readonly string[]) => Array.from({ length: next() % 14 }, () => alphabet[next() % alphabet.length]!).join('');

describe('transformation triggers', () => {
  it('skip a transformation only on values it returns unchanged (4,000 random strings per transformation)', () => {
    let skipped = 0;
    for (const name of NAMES) {
      const fn = lookupTransform(name)!;
      const trigger = triggerOf(name);
      // Strings without the trigger's chars: the case the engine skips the call in. A char is judged
      // inside a longer string: a value that is only `.` has a class of its own (LONE_DOT).
      const allowed = ALPHABET.filter((ch) => (charClasses(`${ch}a`) & trigger) === 0 || trigger === ALWAYS);
      for (let n = 0; n < 4000; n++) {
        const s = randomString(allowed.length > 0 ? allowed : ALPHABET);
        if ((charClasses(s) & trigger) !== 0) continue;
        skipped++;
        expect(fn(s), `${name}(${JSON.stringify(s)})`).toBe(s);
      }
    }
    expect(skipped).toBeGreaterThan(80_000);
  });

  it('always run a transformation that can change any value, the empty one too', () => {
    for (const name of ['base64Decode', 'length', 'sha1', 'hexEncode', 'uppercase']) {
      expect(triggerOf(name)).toBe(ALWAYS);
      expect(charClasses('') & ALWAYS).not.toBe(0);
      expect(charClasses('abc') & ALWAYS).not.toBe(0);
    }
    expect(lookupTransform('length')!('')).toBe('0');
  });

  it('name the chars that wake each decoding step', () => {
    expect(charClasses('item number 7') & triggerOf('urlDecodeUni')).toBe(0);
    expect(charClasses('a%27b') & triggerOf('urlDecodeUni')).not.toBe(0);
    expect(charClasses('a+b') & triggerOf('urlDecode')).not.toBe(0);
    expect(charClasses('&lt;') & triggerOf('htmlEntityDecode')).not.toBe(0);
    expect(charClasses('\\x41') & triggerOf('jsDecode')).not.toBe(0);
    expect(charClasses('Select') & triggerOf('lowercase')).not.toBe(0);
    expect(charClasses('\xc3\xa9') & triggerOf('utf8toUnicode')).not.toBe(0);
    expect(charClasses('.') & triggerOf('normalizePath')).not.toBe(0);
    expect(lookupTransform('normalizePath')!('.')).toBe('');
    // Dots without a slash change nothing: JSON argument names skip both path steps.
    for (const name of ['json.items.0.name', '..', 'a..b', '...', '.x.']) {
      for (const t of ['normalizePath', 'normalizePathWin']) {
        expect(charClasses(name) & triggerOf(t)).toBe(0);
        expect(lookupTransform(t)!(name)).toBe(name);
      }
    }
  });
});

import { describe, expect, it } from 'vitest';
import { compilePcre, translatePcre, UnsupportedPatternError } from './translate.js';
import { guardLeadingRuns } from './run-guard.js';

describe('PCRE to JavaScript translation', () => {
  it('turns a leading (?i) into the i flag and always adds DOTALL and MULTILINE like ModSecurity v3', () => {
    expect(translatePcre('(?i)abc')).toEqual({ source: 'abc', flags: 'smi' });
    expect(compilePcre('(?i)select').test('SeLeCt')).toBe(true);
  });

  it('reads \\z as end of input, not the letter z', () => {
    const re = compilePcre('abc\\z');
    expect(re.test('abc')).toBe(true);
    expect(re.test('abcz')).toBe(false);
    expect(re.test('abc\n')).toBe(false);
  });

  it('translates \\x{HH}, \\e and POSIX classes', () => {
    expect(compilePcre('\\x{41}\\e').test('A\x1b')).toBe(true);
    expect(compilePcre('^[[:digit:][:upper:]]+$').test('A1B2')).toBe(true);
    expect(compilePcre('^[[:digit:]]+$').test('a1')).toBe(false);
  });

  it('case-folds only inside a (?i:...) group', () => {
    const re = compilePcre('a(?i:bc)d');
    expect(re.test('aBCd')).toBe(true);
    expect(re.test('ABCd')).toBe(false);
  });

  it('keeps a ] that opens a class literal and drops possessive quantifiers and atomic groups', () => {
    expect(compilePcre('^[]a]+$').test(']a]')).toBe(true);
    expect(compilePcre('^a++(?>b)$').test('aab')).toBe(true);
  });

  it('matches bytes, not UTF-16 code units, so \\xc3 finds the first byte of é', () => {
    const bytes = Buffer.from('é', 'utf8').toString('latin1');
    expect(compilePcre('\\xc3\\xa9').test(bytes)).toBe(true);
  });

  it('refuses PCRE escapes JavaScript would silently misread', () => {
    expect(() => compilePcre('a\\Kb')).toThrow(UnsupportedPatternError);
    expect(() => compilePcre('(?|a)')).toThrow(UnsupportedPatternError);
  });
});

describe('leading-run guard', () => {
  it('only adds a lookbehind to alternatives that start with a repeated class', () => {
    expect(guardLeadingRuns('[a-z]+x|y')).toBe('(?<![a-z])[a-z]+x|y');
    expect(guardLeadingRuns('(?:a|b)+c')).toBe('(?:a|b)+c');
  });

  it('finds the same leftmost match as the unguarded pattern', () => {
    const samples = ['abc1x', '  foo-bar1 x', 'zzz', '1a-b_c$x1', "a'b'c", 'x'.repeat(50) + '"y"z'];
    for (const src of ['[-0-9_a-z]+(?:["\'][^"\']+["\']|\\$x)[-0-9_a-z]+', '\\w+1', '[a-z]*-|q']) {
      const plain = new RegExp(src, 'sm');
      const guarded = new RegExp(guardLeadingRuns(src), 'sm');
      for (const s of samples) expect(guarded.exec(s)?.[0], `${src} on ${s}`).toBe(plain.exec(s)?.[0]);
    }
  });

  it('keeps a 64 KB run of digits linear for CRS 932240 (the slowest pattern without the guard)', () => {
    const re = compilePcre(String.raw`(?i)[\-0-9_a-z]+(?:[\s\x0b]*[\"'][^\s\x0b\"',:]+[\"']|(?:[\"'][\"']+|[\[-\]]+|\$+[!#\*\-0-9\?@\x5c_a-\{]+|` + '``' + String.raw`|[\$<>]\(\))[\s\x0b]*)[\-0-9_a-z]+`);
    // A behavioural bound, not a timing assertion: the guard lets the matcher start once per run.
    expect(re.source.startsWith('(?<!')).toBe(true);
    expect(re.test('foo=' + '1'.repeat(64_000))).toBe(false);
  });
});

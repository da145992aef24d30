import { describe, expect, it } from 'vitest';
import { minMatchLength } from './min-length.js';
import { compilePcre } from './translate.js';

const min = (pcre: string) => minMatchLength(compilePcre(pcre).source);

describe('the shortest match of a pattern', () => {
  it('adds up a sequence, takes the shortest alternative and counts a quantifier by its minimum', () => {
    expect(min('abc')).toBe(3);
    expect(min('a|bc')).toBe(1);
    expect(min('(?:ab)+c')).toBe(3);
    expect(min('a*b')).toBe(1);
    expect(min('x{3,5}y?')).toBe(3);
    expect(min('(?:a|bcd){2}')).toBe(2);
    expect(min('[^a]\\d\\s.')).toBe(4);
  });

  it('counts nothing for what consumes nothing: anchors, word boundaries, lookarounds, back-references', () => {
    expect(min('^$')).toBe(0);
    expect(min('\\beval\\b')).toBe(4);
    expect(min('foo(?=barbaz)')).toBe(3);
    expect(min('(?<!x)y')).toBe(1);
    // The group may have matched nothing, so its back-reference may too.
    expect(min('(a*)\\1b')).toBe(1);
  });

  it('reads translated PCRE: 934100\'s shortest alternatives need 4 chars (`env[`), `\\x{HH}` is one char', () => {
    expect(min('(?:binding|constructor|env|global|main(?:Module)?|process|require)\\[|eval\\(')).toBe(4);
    expect(min('(?i)\\x{3c}script')).toBe(7);
  });

  it('gives 0, no bound, for what it cannot parse', () => {
    expect(minMatchLength('(')).toBe(0);
    expect(minMatchLength('a{2,1}')).toBe(0);
  });

  it('is never above the length of a match, on generated patterns and inputs', () => {
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const atoms = ['a', 'b', '\\d', '[ab]', '.', '(?:a|bc)', '(a)', '\\1', '\\b', '^', '$', '(?=ab)', '(?!a)'];
    const quantifiers = ['', '', '*', '+', '?', '{2}', '{0,2}', '{1,3}'];
    let checked = 0;
    for (let n = 0; n < 3000; n++) {
      let source = '';
      for (let k = 1 + rand(5); k > 0; k--) source += atoms[rand(atoms.length)]! + (rand(2) ? quantifiers[rand(quantifiers.length)]! : '');
      if (rand(4) === 0) source += '|' + atoms[rand(atoms.length)]!;
      let re: RegExp;
      try {
        re = new RegExp(source, 'g');
      } catch {
        continue;
      }
      const bound = minMatchLength(source);
      let input = '';
      for (let k = rand(12); k > 0; k--) input += 'ab1 c'[rand(5)];
      for (const m of input.matchAll(re)) {
        expect(m[0].length, `${source} on ${JSON.stringify(input)}`).toBeGreaterThanOrEqual(bound);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });
});

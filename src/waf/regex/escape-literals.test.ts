import { describe, expect, it } from 'vitest';
import { allLiteralSets, requiredLiteralSets } from './literals.js';
import { selectiveLiteralSets } from './escape-literals.js';
import { isCaselessByte } from './literal-algebra.js';
import { compilePcre } from './translate.js';

// CRS 932230's shape: each command spelled with an evasion group between its letters.
const EVADE = `["'\\)\\[\\x5c]*(?:(?:(?:\\|\\||&&)[\\s\\x0b]*)?\\$[!#\\(\\*\\-0-9\\?@_a-\\{]*)?\\x5c?`;
const spell = (word: string) => [...word].join(EVADE);
const PCRE = `(?i)(?:${['busybox', 'command', 'nohup', 'env'].map(spell).join('|')})`;
const source = compilePcre(PCRE).source;
const chars = (s: string) => new Set([...s].map((c) => c.charCodeAt(0)));

describe('literals with excluded chars', () => {
  it('proves nothing useful from the plain pattern: one letter of each command', () => {
    expect(requiredLiteralSets(source)?.[0]).toEqual(['b', 'c', 'n', 'e']);
  });

  it('requires whole commands of an input without the evasion chars, or one of those chars', () => {
    const sets = selectiveLiteralSets(source)!;
    expect(sets).toHaveLength(1);
    expect(new Set(sets[0])).toEqual(new Set(['busybox', 'command', 'nohup', 'env', '"', "'", ')', '[', '\\', '$']));
  });

  it('treats a part made only of excluded chars as unmatchable, and an optional one as empty', () => {
    expect(allLiteralSets('ab[$]?c', chars('$'))).toEqual([['abc', '$']]);
    expect(allLiteralSets('ab(?:x\\$)*cd', chars('$'))).toEqual([['abcd', '$']]);
    // Every match needs a `$`: that is the whole requirement.
    expect(allLiteralSets('ab\\$cd|\\$', chars('$'))).toEqual([['$']]);
    expect(allLiteralSets('(?:ab|[$])cd', chars('$'))).toEqual([['abcd', '$']]);
  });

  it('keeps the plain sets when they are already selective', () => {
    const plain = compilePcre('union\\s+select').source;
    expect(selectiveLiteralSets(plain)).toEqual(requiredLiteralSets(plain));
  });

  it('never rules out an input the pattern matches (20,000 evasive spellings)', () => {
    const re = compilePcre(PCRE);
    const sets = selectiveLiteralSets(source)!;
    const evasions = ['', '', '', '"', "'", '\\', ')', '[', '$x', '||$IFS', '&& $1', '$', 'q'];
    let seed = 3;
    const next = () => {
      seed = (seed * 48271) % 0x7fffffff;
      return seed;
    };
    let matched = 0;
    for (let n = 0; n < 20_000; n++) {
      const word = ['busybox', 'command', 'nohup', 'env', 'enx'][next() % 5]!;
      const spelled = [...word].map((ch) => (next() % 2 ? ch.toUpperCase() : ch) + evasions[next() % evasions.length]).join('');
      const input = `x=${spelled}`;
      if (!re.test(input)) continue;
      matched++;
      const lower = input.toLowerCase();
      for (const set of sets) expect(set.some((lit) => lower.includes(lit)), input).toBe(true);
    }
    expect(matched).toBeGreaterThan(1000);
  });
});

describe('Latin-1 literals', () => {
  it('are caseless bytes only: each matches itself alone under `i`, among all 65,536 UTF-16 code units', () => {
    const caseless = Array.from({ length: 128 }, (_, k) => 128 + k).filter(isCaselessByte);
    expect(caseless).toEqual(expect.arrayContaining([0xbc, 0xbe, 0xd7, 0xf7]));
    expect(caseless).not.toContain(0xb5); // µ upper-cases to U+039C
    expect(caseless).not.toContain(0xe9);
    for (const c of caseless) {
      const re = new RegExp(`^\\x${c.toString(16)}$`, 'i');
      for (let code = 0; code < 0x10000; code++) if (code !== c && re.test(String.fromCharCode(code))) throw new Error(`${c} matches ${code}`);
    }
  });

  it('let the prefilter rule out values without them (CRS 941310)', () => {
    expect(requiredLiteralSets(compilePcre('\\x{bc}[^>\\x{be}]*[>\\x{be}]|<[^\\x{be}]*\\x{be}').source)?.[0]).toEqual(['\xbc', '<']);
    expect(requiredLiteralSets(compilePcre('(?i)caf\\xe9').source)?.[0]).toEqual(['caf']);
  });
});

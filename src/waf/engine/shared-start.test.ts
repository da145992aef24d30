import { describe, expect, it } from 'vitest';
import { Prefilter } from './prefilter.js';
import { EvaluationCache } from './evaluation-cache.js';
import { rawOffsets, rawValues } from './raw-node.js';
import { Collection } from '../variables/collection.js';
import { ALWAYS, charClasses } from '../transforms/triggers.js';
import { base64Decode } from '../transforms/basic.js';
import { transformAll } from './collection-memo.js';
import { UNION_UNKNOWN } from './evaluation-cache.js';
import { mulberry32 } from '../../../test/helpers/seeded-random.js';

/*
 * rawValues and rawOffsets (raw-node.ts) read a value that starts like the one before it from the
 * char classes, scanner state and bits kept after the shared start. Every value's classes and
 * verdict must be what reading the whole value gives: on JSON-like names (long shared starts, objects of a few members, repeated names) and on
 * values with short, partial or no shared starts.
 */

const ALPHABET = 'abcdeJSON.0123 %/\\';

function randomText(next: () => number, max: number): string {
  let s = '';
  for (let n = next() % (max + 1); n > 0; n--) s += ALPHABET[next() % ALPHABET.length];
  return s;
}

/** Rules of one to three literals each, over the values' alphabet: many reports, across the shared starts too. */
function randomPrefilter(next: () => number): Prefilter {
  const perRule = Array.from({ length: 70 }, () => Array.from({ length: 1 + (next() % 3) }, () => randomText(next, 4) || 'a'));
  return new Prefilter(perRule);
}

/** Groups of values that share a random start, the way a JSON object's member names do, some repeated. */
function randomValues(next: () => number): string[] {
  const values: string[] = [];
  while (values.length < 60) {
    const start = randomText(next, 16);
    for (let m = next() % 5; m >= 0; m--) {
      const value = start + randomText(next, 6);
      values.push(value);
      if (next() % 7 === 0) values.push(value);
    }
    if (next() % 4 === 0) values.push(randomText(next, 8));
  }
  return values;
}

/** The values' verdict offsets as the engine computes them for a collection's node 0, and their classes. */
function readRaw(cache: EvaluationCache, values: string[]): { offsets: Int32Array; classes: Int32Array; all: number } {
  const coll = new Collection('ARGS');
  coll.assign(values.map((_, i) => `k${i}`), values);
  const raw = rawValues(coll);
  return { offsets: rawOffsets(cache, raw.values), classes: raw.classes, all: raw.all };
}

/** How many leading chars `a` and `b` share. */
function sharedLength(a: string, b: string): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

function cacheOf(prefilter: Prefilter): EvaluationCache {
  return new EvaluationCache({ prefilter, unionCount: 0, nodeCount: 1, unionSources: { ofUnion: new Int32Array(0), selectors: [], chainTriggers: new Int32Array(0) } });
}

describe('scanning values from the start they share with the value before', () => {
  it('gives every value the classes and verdict of a whole read, over 300 random rule sets and collections', () => {
    const next = mulberry32(11);
    let resumable = 0;
    for (let round = 0; round < 300; round++) {
      const prefilter = randomPrefilter(next);
      const cache = cacheOf(prefilter);
      const values = randomValues(next);
      const { offsets, classes, all } = readRaw(cache, values);
      expect(all).toBe(values.reduce((acc, v) => acc | charClasses(v), 0));
      values.forEach((value, i) => {
        expect(classes[i], JSON.stringify(value)).toBe(charClasses(value));
        const words = Array.from(cache.verdicts.subarray(offsets[i]!, offsets[i]! + prefilter.words));
        expect(words, `${JSON.stringify(values.slice(Math.max(0, i - 2), i + 1))} (round ${round})`).toEqual(Array.from(prefilter.scan(value)));
        if (i > 0 && value.slice(0, 6) === values[i - 1]!.slice(0, 6) && value !== values[i - 1]) resumable++;
      });
      cache.reset();
    }
    // The resumed path ran, many times.
    expect(resumable).toBeGreaterThan(2000);
  });

  it('gives JSON names the verdicts of whole scans', () => {
    const prefilter = new Prefilter([['json.'], ['.na'], ['ms.1'], ['2.n'], ['item'], ['e']]);
    const cache = cacheOf(prefilter);
    const names = ['json.order'];
    for (let i = 0; i < 14; i++) for (const field of ['id', 'name', 'note', 'qty']) names.push(`json.items.${i}.${field}`);
    const { offsets } = readRaw(cache, names);
    names.forEach((name, i) => expect(Array.from(cache.verdicts.subarray(offsets[i]!, offsets[i]! + prefilter.words)), name).toEqual(Array.from(prefilter.scan(name))));
  });

  it('gives every value of a base64 node its own decoding, over runs of values that share their starts', () => {
    const next = mulberry32(23);
    // Base64 chars, chars that end the alphabet prefix (`.`, `-`, `=`, space), and runs that share starts.
    const pieces = ['YWJj', 'ZGVm', 'Zw', 'a', 'Q', '.', '-', '=', ' ', 'json', '.items.', '12', '3'];
    let reused = 0;
    for (let round = 0; round < 200; round++) {
      const values: string[] = [];
      while (values.length < 40) {
        const start = Array.from({ length: 1 + (next() % 4) }, () => pieces[next() % pieces.length]).join('');
        for (let m = next() % 4; m >= 0; m--) values.push(start + Array.from({ length: next() % 3 }, () => pieces[next() % pieces.length]).join(''));
      }
      const coll = new Collection('ARGS_NAMES');
      coll.assign(values, values);
      const raw = rawValues(coll);
      const parent = { ...raw, offsets: undefined, union: UNION_UNKNOWN, derived: undefined };
      const node = transformAll(parent, { node: 1, fn: base64Decode, trigger: ALWAYS });
      values.forEach((value, i) => {
        expect(node.values[i], JSON.stringify(values.slice(Math.max(0, i - 1), i + 1))).toBe(base64Decode(value));
        expect(node.classes[i]).toBe(charClasses(base64Decode(value)));
        if (i > 0 && sharedLength(values[i - 1]!, value) >= 6 && values[i] !== values[i - 1] && base64Decode(value) === base64Decode(values[i - 1]!)) reused++;
      });
    }
    expect(reused).toBeGreaterThan(500);
  });
});

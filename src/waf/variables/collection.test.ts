import { describe, expect, it } from 'vitest';
import { Collection, namesOf } from './collection.js';
import { plainEntry as plain } from './entry.js';

/** What byKey must return: every entry whose key equals the asked one, ignoring case, in order. */
const byKeyOracle = (c: Collection, lowerKey: string) => c.entries.filter((e) => e.key.toLowerCase() === lowerKey);

describe('Collection', () => {
  it('selects by key ignoring case, in order, and names each entry after its collection', () => {
    const headers = new Collection('REQUEST_HEADERS');
    headers.add('Accept', 'a');
    headers.add('X-Token', 'b');
    headers.add('ACCEPT', 'c');
    expect(headers.byKey('accept').map((e) => e.value)).toEqual(['a', 'c']);
    expect(headers.byKey('x-token').map(plain)).toEqual([{ name: 'REQUEST_HEADERS:X-Token', key: 'X-Token', value: 'b' }]);
    expect(headers.byKey('cookie')).toEqual([]);
    expect(namesOf(headers, 'REQUEST_HEADERS_NAMES').entries.map((e) => [e.name, e.value])).toEqual([
      ['REQUEST_HEADERS_NAMES:Accept', 'Accept'],
      ['REQUEST_HEADERS_NAMES:X-Token', 'X-Token'],
      ['REQUEST_HEADERS_NAMES:ACCEPT', 'ACCEPT'],
    ]);
  });

  it('finds entries added after a selection and forgets replaced ones (random adds, selections and assignments against a filter)', () => {
    let seed = 7;
    // The high bits: an LCG's low bits repeat with a short period.
    const random = (n: number) => Math.floor(((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * n);
    const keys = ['a', 'A', 'b', 'Content-Type', 'content-type', 'CONTENT-TYPE', 'x'];
    const c = new Collection('ARGS');
    for (let step = 0; step < 3_000; step++) {
      const op = random(10);
      if (op < 6) c.add(keys[random(keys.length)]!, String(step));
      else if (op < 9) {
        const key = keys[random(keys.length)]!.toLowerCase();
        expect(c.byKey(key)).toEqual(byKeyOracle(c, key));
      } else {
        const assigned = Array.from({ length: random(4) }, () => keys[random(keys.length)]!);
        c.assign(assigned, assigned.map((_k, i) => `assigned ${step}.${i}`));
        expect(c.entries.map((e) => [e.name, e.key, e.value])).toEqual(assigned.map((k, i) => [`ARGS:${k}`, k, `assigned ${step}.${i}`]));
      }
    }
  });
});

import { describe, expect, it } from 'vitest';
import { Collection, namesOf } from './collection.js';
import { plainEntry as plain } from './entry.js';
import { charClasses } from '../transforms/triggers.js';

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

  it('makes one entry per value, when read, and never changes a list it handed out or took in (2,000 random operations against a model)', () => {
    let seed = 11;
    const random = (n: number) => Math.floor(((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * n);
    const keys = ['a', 'B', 'json.items.0.id', 'Content-Type'];
    const c = new Collection('ARGS');
    let model: [string, string][] = [];
    // Every list the collection handed out or took in, with what it held then.
    const lists: { list: readonly string[]; was: string[] }[] = [];
    let names = namesOf(c, 'ARGS_NAMES');
    let namesWere: string[] = [];
    // Entries read since the last assign, by index: a later read must give the same object.
    let seen = new Map<number, unknown>();
    for (let step = 0; step < 2_000; step++) {
      const op = random(9);
      if (op < 3) {
        const key = keys[random(keys.length)]!;
        c.add(key, `v${step}`);
        model.push([key, `v${step}`]);
      } else if (op === 3) {
        const given = Array.from({ length: random(5) }, () => keys[random(keys.length)]!);
        const values = given.map((_k, i) => `assigned ${step}.${i}`);
        c.assign(given, values);
        lists.push({ list: given, was: [...given] }, { list: values, was: [...values] });
        model = given.map((k, i) => [k, values[i]!]);
        seen = new Map();
      } else if (op === 4 && model.length > 0) {
        const i = random(model.length);
        const entry = c.entryAt(i);
        expect(plain(entry)).toEqual({ name: `ARGS:${model[i]![0]}`, key: model[i]![0], value: model[i]![1] });
        if (seen.has(i)) expect(entry).toBe(seen.get(i));
        seen.set(i, entry);
      } else if (op === 5) {
        const list = random(2) === 0 ? c.keys : c.values;
        lists.push({ list, was: [...list] });
        names = namesOf(c, 'ARGS_NAMES');
        namesWere = model.map(([k]) => k);
      } else if (op === 6) {
        const entries = c.entries;
        expect(entries.map(plain)).toEqual(model.map(([k, v]) => ({ name: `ARGS:${k}`, key: k, value: v })));
        entries.forEach((e, i) => {
          if (seen.has(i)) expect(e).toBe(seen.get(i));
          seen.set(i, e);
        });
      } else if (op === 7) {
        const key = keys[random(keys.length)]!.toLowerCase();
        expect(c.byKey(key).map(plain)).toEqual(byKeyOracle(c, key).map(plain));
        expect(c.byRegex(/^[a-z]/).map(plain)).toEqual(c.entries.filter((e) => /^[a-z]/.test(e.key)).map(plain));
      } else {
        expect(c.size).toBe(model.length);
        expect([...c.keys]).toEqual(model.map(([k]) => k));
      }
      // Only adds and assignments could change a list.
      if (op > 3) continue;
      for (const { list, was } of lists) expect(list).toEqual(was);
      expect(names.entries.map((e) => e.value)).toEqual(namesWere);
    }
  });

  it('keeps the char classes given with its values only until they change', () => {
    const args = new Collection('ARGS');
    const classes = Int32Array.from(['x', 'A b'].map(charClasses));
    args.assign(['q', 'r'], ['x', 'A b'], classes);
    expect(args.valueClasses).toBe(classes);
    expect(namesOf(args, 'ARGS_NAMES', Int32Array.from(['q', 'r'].map(charClasses))).valueClasses).toEqual(Int32Array.from(['q', 'r'].map(charClasses)));
    args.add('s', 'new');
    expect(args.valueClasses).toBeUndefined();
    args.assign(['q'], ['x']);
    expect(args.valueClasses).toBeUndefined();
  });
});

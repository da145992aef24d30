import { describe, expect, it } from 'vitest';
import { Scalars, scalarSlot } from './scalars.js';
import { plainEntry as plain } from './entry.js';
import { toSelector } from '../compile/targets.js';

describe('scalars', () => {
  it('keep one shared one-entry list per variable, listed names and others alike', () => {
    const s = new Scalars();
    expect(s.has('REQUEST_URI')).toBe(false);
    expect(s.selection('REQUEST_URI')).toBeUndefined();
    s.set('REQUEST_URI', '/a');
    s.set('MY_OWN', 'x');
    const list = s.selection('REQUEST_URI');
    expect(list?.map(plain)).toEqual([{ name: 'REQUEST_URI', key: '', value: '/a' }]);
    // The same list every selection (rules select a scalar ~50 times a request).
    expect(s.selection('REQUEST_URI')).toBe(list);
    expect(s.get('MY_OWN')).toBe('x');
    s.set('REQUEST_URI', '/b');
    expect(s.get('REQUEST_URI')).toBe('/b');
    // A list handed out earlier is never changed.
    expect(list![0]!.value).toBe('/a');
  });

  it('retain only the named variables, listed names and others alike', () => {
    const s = new Scalars();
    for (const name of ['REQUEST_METHOD', 'REQUEST_URI', 'QUERY_STRING', 'MY_OWN', 'MY_OTHER']) s.set(name, name.toLowerCase());
    s.retainOnly(new Set(['REQUEST_METHOD', 'MY_OWN']));
    expect(['REQUEST_METHOD', 'REQUEST_URI', 'QUERY_STRING', 'MY_OWN', 'MY_OTHER'].map((n) => s.has(n))).toEqual([true, false, false, true, false]);
    expect(s.get('REQUEST_METHOD')).toBe('request_method');
  });

  it('read by the slot a selector found at load as by name, listed names and others alike', () => {
    const s = new Scalars();
    const names = ['REQUEST_URI', 'RESPONSE_BODY', 'UNIQUE_ID', 'MY_OWN', 'ARGS'];
    s.set('REQUEST_URI', '/a');
    s.set('MY_OWN', 'x');
    for (const name of names) {
      const slot = toSelector({ collection: name, key: undefined, keyIsRegex: false, count: false, exclude: false }).scalarSlot;
      expect(slot).toBe(scalarSlot(name));
      expect(s.selectionAt(slot, name), name).toBe(s.selection(name));
    }
    // Listed names have distinct slots; others (and collections) have none.
    expect(new Set(['REQUEST_URI', 'RESPONSE_BODY', 'UNIQUE_ID'].map(scalarSlot)).size).toBe(3);
    expect([scalarSlot('MY_OWN'), scalarSlot('ARGS')]).toEqual([-1, -1]);
    expect(s.selectionAt(-1, 'MY_OWN')?.map(plain)).toEqual([{ name: 'MY_OWN', key: '', value: 'x' }]);
  });
});

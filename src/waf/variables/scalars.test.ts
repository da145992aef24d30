import { describe, expect, it } from 'vitest';
import { Scalars } from './scalars.js';

describe('scalars', () => {
  it('keep one shared one-entry list per variable, listed names and others alike', () => {
    const s = new Scalars();
    expect(s.has('REQUEST_URI')).toBe(false);
    expect(s.selection('REQUEST_URI')).toBeUndefined();
    s.set('REQUEST_URI', '/a');
    s.set('MY_OWN', 'x');
    const list = s.selection('REQUEST_URI');
    expect(list).toEqual([{ name: 'REQUEST_URI', key: '', value: '/a' }]);
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
});

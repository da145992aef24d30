import { describe, expect, it } from 'vitest';
import { Entry, namedEntry, plainEntry } from './entry.js';
import { Collection } from './collection.js';

describe('Entry', () => {
  it('is named after its collection and key, the name built when first read', () => {
    const e = new Entry('ARGS', 'json.items.0.id', '7');
    expect(e.name).toBe('ARGS:json.items.0.id');
    expect(e.name).toBe('ARGS:json.items.0.id');
    expect(plainEntry(e)).toEqual({ name: 'ARGS:json.items.0.id', key: 'json.items.0.id', value: '7' });
  });

  it('keeps a name given whole, whatever its key', () => {
    expect(plainEntry(namedEntry('&ARGS', '', '3'))).toEqual({ name: '&ARGS', key: '', value: '3' });
    expect(new Entry('TX', 'score', '5', 'TX:Score').name).toBe('TX:Score');
  });

  it('names each entry of a collection after the collection and its key', () => {
    const c = new Collection('ARGS_NAMES');
    c.add('a', 'a');
    c.add('b.c', 'b.c');
    expect(c.entries.map((e) => e.name)).toEqual(['ARGS_NAMES:a', 'ARGS_NAMES:b.c']);
  });
});

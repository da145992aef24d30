import { describe, expect, it } from 'vitest';
import { SlotIndex, SlotMap } from './slot-map.js';
import { COLLECTION_SLOTS } from './collection.js';
import { toSelector } from '../compile/targets.js';

describe('SlotMap', () => {
  const index = new SlotIndex(['A', 'B', 'C']);

  it('holds what a Map holds, through 2,000 random sets, reads and trims over slot names and others', () => {
    const names = ['A', 'B', 'C', 'x', 'y'];
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
    let map = new Map<string, number>();
    const slots = new SlotMap<number>(index);
    for (let step = 0; step < 2000; step++) {
      const name = names[next() % names.length]!;
      const op = next() % 10;
      if (op < 6) {
        map.set(name, step);
        slots.set(name, step);
      } else if (op < 9) {
        expect(slots.get(name)).toBe(map.get(name));
        expect(slots.getAt(index.slotOf(name), name)).toBe(map.get(name));
        expect(slots.has(name)).toBe(map.has(name));
      } else {
        const keep = new Set(names.filter(() => next() % 2 === 0));
        map = new Map([...map].filter(([k]) => keep.has(k)));
        slots.retainOnly(keep);
      }
      expect(slots.keys().sort()).toEqual([...map.keys()].sort());
    }
  });

  it('gives slots to the listed names only', () => {
    expect(['A', 'B', 'C', 'x'].map((n) => index.slotOf(n))).toEqual([0, 1, 2, -1]);
  });

  it("gives a selector its collection's slot at load", () => {
    const sel = (collection: string) => toSelector({ collection, key: undefined, keyIsRegex: false, count: false, exclude: false });
    expect(sel('REQUEST_HEADERS').collectionSlot).toBe(COLLECTION_SLOTS.slotOf('REQUEST_HEADERS'));
    expect(sel('ARGS_NAMES').collectionSlot).toBeGreaterThanOrEqual(0);
    expect([sel('REQUEST_URI').collectionSlot, sel('TX').collectionSlot]).toEqual([-1, -1]);
  });
});

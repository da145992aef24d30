import { describe, expect, it } from 'vitest';
import { TtlLru } from './ttl-lru.js';

describe('TtlLru', () => {
  it('never returns an entry at or past its deadline', () => {
    const lru = new TtlLru<string>(10, 1000);
    lru.set('a', 'A', 0);
    expect(lru.get('a', 999)).toBe('A');
    expect(lru.get('a', 1000)).toBeUndefined();
    lru.set('b', 'B', 0, 300);
    expect(lru.get('b', 299)).toBe('B');
    expect(lru.get('b', 300)).toBeUndefined();
  });

  it('caps an explicit deadline at the TTL', () => {
    const lru = new TtlLru<string>(10, 100);
    lru.set('a', 'A', 0, 10_000);
    expect(lru.get('a', 100)).toBeUndefined();
  });

  it('stays bounded, evicting the least recently used', () => {
    const lru = new TtlLru<number>(2, 1000);
    lru.set('a', 1, 0);
    lru.set('b', 2, 0);
    expect(lru.get('a', 1)).toBe(1);
    lru.set('c', 3, 1);
    expect(lru.size).toBe(2);
    expect(lru.get('b', 2)).toBeUndefined();
    expect(lru.get('a', 2)).toBe(1);
  });

  it('keeps an entry that is read often, in a cache larger than a few entries', () => {
    const lru = new TtlLru<number>(8, 1000);
    lru.set('hot', 0, 0);
    // 100 other keys flow through a cache of 8; 'hot' is read between every two of them.
    for (let i = 0; i < 100; i++) {
      lru.set(`k${i}`, i, 0);
      expect(lru.get('hot', 1)).toBe(0);
    }
    expect(lru.size).toBe(8);
    // A key that is never read again goes first.
    expect(lru.get('k0', 1)).toBeUndefined();
    expect(lru.get('k99', 1)).toBe(99);
  });

  it('drops matching entries and caches nothing when disabled', () => {
    const lru = new TtlLru<{ user: string }>(10, 1000);
    lru.set('k1', { user: 'u' }, 0);
    lru.set('k2', { user: 'v' }, 0);
    lru.deleteWhere((e) => e.user === 'u');
    expect(lru.get('k1', 1)).toBeUndefined();
    expect(lru.get('k2', 1)).toEqual({ user: 'v' });
    const off = new TtlLru<number>(0, 1000);
    off.set('a', 1, 0);
    expect(off.get('a', 0)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryStateStore } from '../../src/state/memory.js';
import { openStateStore } from '../../src/state/open.js';
import { runStateContract } from './contract.js';

runStateContract('memory (manual clock)', async () => {
  const clock = new ManualClock();
  return { state: new MemoryStateStore({ clock }), wait: async (ms) => clock.advance(ms) };
});

runStateContract('memory (real clock)', async () => ({
  state: new MemoryStateStore(),
  wait: (ms) => new Promise((r) => setTimeout(r, ms)),
}));

describe('MemoryStateStore', () => {
  it('evicts the least recently used entries beyond maxEntries', async () => {
    const state = new MemoryStateStore({ maxEntries: 3 });
    await state.set('a', '1', 10_000);
    await state.set('b', '2', 10_000);
    await state.set('c', '3', 10_000);
    expect(await state.get('a')).toBe('1'); // a is now the most recently used
    await state.set('d', '4', 10_000);
    expect(state.size).toBe(3);
    expect(await state.get('b')).toBeNull();
    expect(await state.get('a')).toBe('1');
    expect(await state.get('c')).toBe('3');
    expect(await state.get('d')).toBe('4');
    await state.close();
  });

  it('sweeps expired entries out of memory', async () => {
    const clock = new ManualClock();
    const state = new MemoryStateStore({ clock });
    for (let i = 0; i < 10; i++) await state.set(`k${i}`, 'v', i < 7 ? 1000 : 60_000);
    clock.advance(1000);
    state.sweep();
    expect(state.size).toBe(3);
    await state.close();
  });

  it('expires exactly at the TTL', async () => {
    const clock = new ManualClock();
    const state = new MemoryStateStore({ clock });
    await state.set('k', 'v', 1000);
    clock.advance(999);
    expect(await state.get('k')).toBe('v');
    clock.advance(1);
    expect(await state.get('k')).toBeNull();
    await state.close();
  });

  it('getNow answers synchronously what get answers, and throws where get rejects', async () => {
    const clock = new ManualClock();
    const state = new MemoryStateStore({ clock });
    await state.set('k', 'v', 1000);
    expect(state.getNow('k')).toBe('v');
    expect(state.getNow('missing')).toBeNull();
    clock.advance(1000);
    expect(state.getNow('k')).toBeNull();
    expect(() => state.getNow('')).toThrow(expect.objectContaining({ code: 'STATE_INVALID' }));
    await state.close();
    await expect(state.get('k')).rejects.toThrow();
    expect(() => state.getNow('k')).toThrow();
  });

  it('does not keep the process alive (the sweep timer is unref\'d)', async () => {
    const state = new MemoryStateStore({ sweepIntervalMs: 10 });
    const timer = (state as unknown as { sweeper: NodeJS.Timeout }).sweeper;
    expect(timer.hasRef()).toBe(false);
    await state.close();
  });

  it('openStateStore defaults to memory with the configured bound', async () => {
    const state = await openStateStore({});
    expect(state.backend).toBe('memory');
    await state.close();
    const small = (await openStateStore({
      state: { backend: 'memory', memory: { maxEntries: 100 }, redis: { url: 'redis://x', keyPrefix: 'p:' } },
    })) as MemoryStateStore;
    for (let i = 0; i < 150; i++) await small.set(`k${i}`, 'v', 10_000);
    expect(small.size).toBe(100);
    await small.close();
  });
});

import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../state/memory.js';
import { banPeriod, BanList } from './bans.js';

const PERIODS = { initialMs: 60_000, multiplier: 4, maxMs: 3_600_000, memoryMs: 86_400_000 };

describe('BanList', () => {
  it('grows the period with each strike up to the maximum', () => {
    expect([1, 2, 3, 4].map((s) => banPeriod(PERIODS, s))).toEqual([60_000, 240_000, 960_000, 3_600_000]);
  });

  it('bans at once in this process, lists, lifts, and bans a repeat offender longer', async () => {
    const state = new MemoryStateStore();
    let now = 1_000_000;
    const bans = new BanList(async () => state, PERIODS, () => now);
    const pending = bans.ban('ip:203.0.113.5', 'not-found', '20 404 responses');
    expect(bans.active('ip:203.0.113.5')).toBeDefined(); // before the StateStore answered
    await pending;
    expect(bans.active('ip:203.0.113.6')).toBeUndefined();
    expect(await bans.list()).toMatchObject([{ subject: 'ip:203.0.113.5', strike: 1, until: now + 60_000 }]);
    expect(await bans.lift('ip:203.0.113.5')).toBe(true);
    expect(bans.active('ip:203.0.113.5')).toBeUndefined();
    expect(await bans.list()).toEqual([]);
    const second = await bans.ban('ip:203.0.113.5', 'auth-failures', 'again');
    expect(second).toMatchObject({ strike: 2, until: now + 240_000 });
    now += 240_000;
    expect(bans.active('ip:203.0.113.5')).toBeUndefined(); // expired
    await state.close();
  });

  it('learns bans made by another process from the broadcast', async () => {
    const state = new MemoryStateStore();
    const a = new BanList(async () => state, PERIODS, Date.now);
    const b = new BanList(async () => state, PERIODS, Date.now);
    await b.start(60_000);
    await a.ban('ip:198.51.100.9', 'enumeration', 'ids 1..20');
    await expect.poll(() => b.active('ip:198.51.100.9')?.detector).toBe('enumeration');
    await a.lift('ip:198.51.100.9');
    await expect.poll(() => b.active('ip:198.51.100.9')).toBeUndefined();
    await b.close();
    await state.close();
  });
});

import { describe, expect, it } from 'vitest';
import { gcra, slidingWindow, type WindowState } from './algorithms.js';
import { MemoryLimiter } from './memory.js';
import type { LimitRule } from './types.js';

const rule = (over: Partial<LimitRule> = {}): LimitRule => ({ name: 'r', algorithm: 'gcra', limit: 10, windowMs: 1000, burst: 10, ...over });

describe('gcra', () => {
  it('admits a full burst at once, then one request per emission interval', () => {
    const r = rule({ limit: 10, windowMs: 1000, burst: 5 });
    let tat: number | undefined;
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) {
      const step = gcra(r, tat, t0);
      expect(step.result).toMatchObject({ allowed: true, remaining: 4 - i });
      tat = step.tat;
    }
    const refused = gcra(r, tat, t0);
    expect(refused.result.allowed).toBe(false);
    expect(refused.result.retryAfterMs).toBe(100);
    expect(gcra(r, tat, t0 + 99).result.allowed).toBe(false);
    expect(gcra(r, tat, t0 + 100).result.allowed).toBe(true);
  });

  it('reports the time until the bucket is full again as reset', () => {
    const step = gcra(rule({ limit: 4, windowMs: 1000, burst: 4 }), undefined, 0);
    expect(step.result.resetMs).toBe(250);
  });
});

describe('sliding window', () => {
  it('never admits more than the limit within one fixed window', () => {
    const r = rule({ algorithm: 'sliding-window', limit: 3, windowMs: 60_000, burst: 3 });
    let state: WindowState | undefined;
    const admitted = [0, 10, 20, 30, 59_999].map((t) => {
      const step = slidingWindow(r, state, 600_000 + t);
      if (step.result.allowed) state = step.state;
      return step.result.allowed;
    });
    expect(admitted).toEqual([true, true, true, false, false]);
  });

  it('weights the previous window by its overlap, so a window edge does not double the limit', () => {
    const r = rule({ algorithm: 'sliding-window', limit: 10, windowMs: 60_000, burst: 10 });
    const state: WindowState = { start: 0, previous: 0, current: 10 };
    // 15 s into the next window, 75% of the previous window still counts: 7.5 of 10.
    const at15s = slidingWindow(r, state, 75_000);
    expect(at15s.result).toMatchObject({ allowed: true, remaining: 1 });
    const full = { start: 60_000, previous: 10, current: 2 };
    const refused = slidingWindow(r, full, 75_000);
    expect(refused.result.allowed).toBe(false);
    // 10 * (60 - e) / 60 + 2 + 1 <= 10  =>  e >= 18 s: 3 s after 15 s.
    expect(refused.result.retryAfterMs).toBe(3000);
  });
});

describe('MemoryLimiter', () => {
  it('admits a request only when every limit admits it, and then counts it against all', () => {
    const limiter = new MemoryLimiter();
    const perSecond = rule({ name: 's', limit: 10, windowMs: 1000, burst: 10 });
    const perMinute = rule({ name: 'm', algorithm: 'sliding-window', limit: 3, windowMs: 60_000, burst: 3 });
    const checks = [
      { key: 'a:s', rule: perSecond },
      { key: 'a:m', rule: perMinute },
    ];
    const outcomes = [0, 1, 2, 3, 4].map((i) => limiter.decide(checks, 120_000 + i));
    expect(outcomes.map((o) => o.allowed)).toEqual([true, true, true, false, false]);
    // The refusals by the minute limit did not use up the second limit: 7 of 10 are left.
    expect(outcomes[4]!.results[0]).toMatchObject({ allowed: true, remaining: 6 });
    expect(outcomes[4]!.results[1]).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('keeps separate counts per key and forgets a key once its state has expired', () => {
    const limiter = new MemoryLimiter();
    const r = rule({ limit: 1, windowMs: 1000, burst: 1 });
    expect(limiter.decide([{ key: 'a', rule: r }], 0).allowed).toBe(true);
    expect(limiter.decide([{ key: 'a', rule: r }], 10).allowed).toBe(false);
    expect(limiter.decide([{ key: 'b', rule: r }], 10).allowed).toBe(true);
    expect(limiter.decide([{ key: 'a', rule: r }], 1000).allowed).toBe(true);
  });

  it('stays bounded under a flood of distinct keys', () => {
    const limiter = new MemoryLimiter(1000);
    const r = rule({ limit: 1, windowMs: 3_600_000, burst: 1 });
    for (let i = 0; i < 5000; i++) limiter.decide([{ key: `k${i}`, rule: r }], 0);
    expect(limiter.size).toBeLessThanOrEqual(1000);
  });
});

import { describe, expect, it } from 'vitest';
import { BurstDetector, EnumerationDetector, numericId, RateDetector } from './detectors.js';

const obs = (now: number, status = 200, path = '/x', route = 'r') => ({ now, status, path, route });

describe('anomaly detectors', () => {
  it('fires a burst detector at the threshold within the window, says why, then starts over', () => {
    const d = new BurstDetector('auth-failures', (s) => s === 401 || s === 403, 5, 60_000, '401/403');
    for (let i = 0; i < 4; i++) expect(d.observe('ip:a', obs(i * 1000, 401, `/p${i}`))).toBeUndefined();
    expect(d.observe('ip:a', obs(200, 200))).toBeUndefined(); // other statuses do not count
    expect(d.observe('ip:b', obs(4000, 401))).toBeUndefined(); // per subject
    const finding = d.observe('ip:a', obs(4000, 403, '/p4'));
    expect(finding).toEqual({ detector: 'auth-failures', reason: '5 401/403 responses on 5 distinct paths within 4s (threshold 5 per 60s)' });
    expect(d.observe('ip:a', obs(4500, 401))).toBeUndefined();
  });

  it('does not fire when the same number of failures is spread over several windows', () => {
    const d = new BurstDetector('auth-failures', (s) => s === 401, 5, 60_000, '401');
    const fired = Array.from({ length: 20 }, (_, i) => d.observe('ip:a', obs(i * 20_000, 401))).filter(Boolean);
    expect(fired).toEqual([]);
  });

  it('finds the object id of a path', () => {
    expect(numericId('/orders/123')).toBe(123);
    expect(numericId('/users/42/orders')).toBe(42);
    expect(numericId('/users/me')).toBeUndefined();
  });

  it('fires on sequential identifiers on one route, not on random ones', () => {
    const d = new EnumerationDetector(10, 60_000, 2);
    let fired;
    let n = 0;
    for (let id = 100; !fired && n < 50; id++, n++) fired = d.observe('ip:a', obs(n * 100, 200, `/orders/${id}`, 'orders'));
    expect(n).toBe(10);
    expect(fired?.reason).toBe('10 sequential identifiers on route orders (100..109, step at most 2)');
    const ids = [5, 93, 17, 60, 2, 88, 41, 29, 75, 11, 54, 36, 99, 8, 67];
    expect(ids.map((id, i) => d.observe('ip:b', obs(i, 200, `/orders/${id}`, 'orders'))).filter(Boolean)).toEqual([]);
  });

  it('fires when the rate jumps far above the client\'s own baseline, not on a steady or slowly rising rate', () => {
    const d = new RateDetector(10_000, 0.2, 4, 3, 50, 6);
    let t = 0;
    const send = (subject: string, count: number, span = 10_000) => {
      const out = [];
      for (let i = 0; i < count; i++) out.push(d.observe(subject, obs(t + Math.floor((i * span) / count))));
      t += span;
      return out.filter(Boolean);
    };
    // Twelve quiet intervals of about 20 requests, then a steady busy client at 100: neither fires.
    for (let i = 0; i < 12; i++) expect(send('ip:a', 18 + (i % 5))).toEqual([]);
    t = 0;
    for (let i = 0; i < 12; i++) expect(send('ip:steady', 100)).toEqual([]);
    for (let i = 0; i < 12; i++) expect(send('ip:steady', 100 + i * 5)).toEqual([]);
    const burst = send('ip:a', 400);
    expect(burst).toHaveLength(1);
    expect(burst[0]!.reason).toMatch(/^\d+ requests in 10s against a baseline of \d+\.\d ± \d+\.\d per interval/);
  });
});

import type { LimitResult, LimitRule } from './types.js';

/**
 * The two algorithms as pure functions over a small state, so the memory backend and the Redis Lua
 * script (redis-script.ts, the same arithmetic line by line) can be checked against each other.
 *
 * GCRA (the Generic Cell Rate Algorithm, ITU-T I.371; a token bucket stated with one number): the
 * state is the theoretical arrival time `tat` of the next request. Each request moves it one
 * emission interval T = window / limit further; a request is admitted while tat - now stays within
 * the burst, burst x T.
 *
 * Sliding window (the two-window estimate Cloudflare and others use): counts for the current and the
 * previous fixed window; the previous one is weighted by how much of it still overlaps the sliding
 * window. No burst beyond the limit, and never more than `limit` admitted within one fixed window.
 */

/** Float noise guard: T = 1000/3 ms does not add up exactly. */
const EPSILON = 1e-6;

export interface GcraStep {
  readonly result: LimitResult;
  /** The new `tat` to store when admitted, and for how long (ms) it matters. */
  readonly tat: number;
  readonly ttlMs: number;
}

export function gcra(rule: LimitRule, storedTat: number | undefined, now: number): GcraStep {
  const interval = rule.windowMs / rule.limit;
  const capacity = rule.burst * interval;
  const tat = storedTat === undefined || storedTat < now ? now : storedTat;
  const next = tat + interval;
  const wait = next - now;
  if (wait <= capacity + EPSILON) {
    return {
      result: { allowed: true, remaining: Math.floor((capacity - wait) / interval + EPSILON), resetMs: Math.ceil(wait), retryAfterMs: 0 },
      tat: next,
      ttlMs: Math.max(1, Math.ceil(wait)),
    };
  }
  return { result: { allowed: false, remaining: 0, resetMs: Math.ceil(tat - now), retryAfterMs: Math.max(1, Math.ceil(wait - capacity)) }, tat, ttlMs: 0 };
}

export interface WindowState {
  /** Start of the fixed window `current` counts in. */
  readonly start: number;
  readonly previous: number;
  readonly current: number;
}

export interface WindowStep {
  readonly result: LimitResult;
  /** The state to store when admitted (current + 1), and for how long (ms) it matters. */
  readonly state: WindowState;
  readonly ttlMs: number;
}

export function slidingWindow(rule: LimitRule, stored: WindowState | undefined, now: number): WindowStep {
  const window = rule.windowMs;
  const start = Math.floor(now / window) * window;
  let previous = 0;
  let current = 0;
  if (stored !== undefined) {
    if (stored.start === start) {
      previous = stored.previous;
      current = stored.current;
    } else if (stored.start === start - window) {
      previous = stored.current;
    }
  }
  const elapsed = now - start;
  const estimate = (previous * (window - elapsed)) / window + current;
  const resetMs = Math.max(1, Math.ceil(window - elapsed));
  if (estimate + 1 <= rule.limit + EPSILON) {
    return {
      result: { allowed: true, remaining: Math.max(0, Math.floor(rule.limit - estimate - 1 + EPSILON)), resetMs, retryAfterMs: 0 },
      state: { start, previous, current: current + 1 },
      ttlMs: 2 * window - elapsed,
    };
  }
  return {
    result: { allowed: false, remaining: 0, resetMs, retryAfterMs: windowRetryMs(rule.limit, window, elapsed, previous, current) },
    state: { start, previous, current },
    ttlMs: 0,
  };
}

/**
 * How long until estimate + 1 <= limit. Within this window the estimate only falls as the previous
 * window's weight decays; once `current` alone is too many, the next window must decay it in turn.
 */
function windowRetryMs(limit: number, window: number, elapsed: number, previous: number, current: number): number {
  if (current + 1 <= limit && previous > 0) {
    // previous * (window - e) / window <= limit - 1 - current
    const at = window * (1 - (limit - 1 - current) / previous);
    return Math.max(1, Math.ceil(at - elapsed - EPSILON));
  }
  const intoNext = current > 0 ? Math.max(0, window * (1 - (limit - 1) / current)) : 0;
  return Math.max(1, Math.ceil(window - elapsed + intoNext - EPSILON));
}

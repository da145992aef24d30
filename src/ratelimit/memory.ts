import { gcra, slidingWindow, type WindowState } from './algorithms.js';
import type { LimitCheck, LimiterBackend, LimitOutcome, LimitResult } from './types.js';

interface Slot {
  tat: number;
  window: WindowState | undefined;
  expiresAt: number;
}

/**
 * Exact limits within one process, synchronous (no promise on the request path). Slots expire when
 * their state no longer matters (a GCRA bucket is full again, a sliding window has passed); the map
 * is bounded: past `maxEntries` expired slots are swept, then the oldest dropped. Dropping a slot
 * forgets a client's usage (it starts afresh), so the bound should exceed the active keys.
 */
export class MemoryLimiter implements LimiterBackend {
  readonly kind = 'memory' as const;
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly maxEntries = 100_000) {}

  get size(): number {
    return this.slots.size;
  }

  /**
   * Scratch for the values to store once every limit has admitted (reused: decide is synchronous),
   * so a decision allocates only its results.
   */
  private readonly nextTat: number[] = [];
  private readonly nextWindow: (WindowState | undefined)[] = [];
  private readonly nextTtl: number[] = [];

  decide(checks: readonly LimitCheck[], now: number): LimitOutcome {
    const results: LimitResult[] = new Array<LimitResult>(checks.length);
    let allowed = true;
    for (let i = 0; i < checks.length; i++) {
      const { key, rule } = checks[i]!;
      const slot = this.live(key, now);
      if (rule.algorithm === 'gcra') {
        const step = gcra(rule, slot?.tat, now);
        results[i] = step.result;
        this.nextTat[i] = step.tat;
        this.nextWindow[i] = undefined;
        this.nextTtl[i] = step.ttlMs;
      } else {
        const step = slidingWindow(rule, slot?.window, now);
        results[i] = step.result;
        this.nextTat[i] = 0;
        this.nextWindow[i] = step.state;
        this.nextTtl[i] = step.ttlMs;
      }
      if (!results[i]!.allowed) allowed = false;
    }
    // All or nothing: a request refused by one limit does not use up the others.
    if (allowed) for (let i = 0; i < checks.length; i++) this.store(checks[i]!.key, this.nextTat[i]!, this.nextWindow[i], this.nextTtl[i]!, now);
    return { allowed, results };
  }

  private live(key: string, now: number): Slot | undefined {
    const slot = this.slots.get(key);
    if (slot !== undefined && slot.expiresAt <= now) {
      this.slots.delete(key);
      return undefined;
    }
    return slot;
  }

  private store(key: string, tat: number, window: WindowState | undefined, ttlMs: number, now: number): void {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      slot.tat = tat;
      slot.window = window;
      slot.expiresAt = now + ttlMs;
      return;
    }
    if (this.slots.size >= this.maxEntries) this.evict(now);
    this.slots.set(key, { tat, window, expiresAt: now + ttlMs });
  }

  private evict(now: number): void {
    for (const [key, slot] of this.slots) if (slot.expiresAt <= now) this.slots.delete(key);
    // Still full: drop the oldest tenth in insertion order (amortised, not one per insert).
    if (this.slots.size >= this.maxEntries) {
      let drop = Math.max(1, Math.floor(this.maxEntries / 10));
      for (const key of this.slots.keys()) {
        this.slots.delete(key);
        if (--drop === 0) break;
      }
    }
  }
}

import { checkKey, checkTtl, StateError } from './errors.js';
import type { MessageHandler, StateStore } from './types.js';

export interface Clock {
  now(): number;
}

/** A clock tests move by hand: TTLs then expire without waiting. */
export class ManualClock implements Clock {
  constructor(private time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface MemoryStateOptions {
  /** Most entries held; the least recently used go first beyond it. */
  maxEntries?: number;
  /** How often expired entries are swept out (they are never returned in any case). */
  sweepIntervalMs?: number;
  clock?: Clock;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The single-process default. A Map keeps insertion order, so moving an entry to the end on every
 * read or write makes the first key the least recently used: eviction is O(1) with no extra list.
 * Expiry is checked on every read; the sweep only frees memory. Its timer is unref'd, so an idle
 * store never keeps the process alive.
 */
export class MemoryStateStore implements StateStore {
  readonly backend = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly channels = new Map<string, Set<MessageHandler>>();
  private readonly maxEntries: number;
  private readonly clock: Clock;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(options: MemoryStateOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 100_000);
    this.clock = options.clock ?? { now: () => Date.now() };
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<string | null> {
    return this.getNow(key);
  }

  getNow(key: string): string | null {
    this.open();
    const entry = this.live(checkKey(key));
    if (!entry) return null;
    this.touch(key, entry);
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.open();
    this.put(checkKey(key), String(value), checkTtl(ttlMs));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.open();
    checkTtl(ttlMs);
    if (this.live(checkKey(key))) return false;
    this.put(key, String(value), ttlMs);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    this.open();
    const existed = this.live(checkKey(key)) !== undefined;
    this.entries.delete(key);
    return existed;
  }

  async incr(key: string, ttlMs: number): Promise<number> {
    this.open();
    checkTtl(ttlMs);
    const entry = this.live(checkKey(key));
    if (!entry) {
      this.put(key, '1', ttlMs);
      return 1;
    }
    const count = Number(entry.value);
    if (!Number.isSafeInteger(count) || !/^-?\d+$/.test(entry.value)) throw new StateError('STATE_INVALID', 'value is not an integer');
    entry.value = String(count + 1);
    this.touch(key, entry);
    return count + 1;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.open();
    const handlers = this.channels.get(checkKey(channel, 'channel'));
    if (!handlers) return;
    // Delivered after the publisher's turn, as Redis does: a publisher never re-enters its own handler.
    for (const handler of [...handlers]) {
      setImmediate(() => {
        try {
          handler(message);
        } catch {
          // One subscriber's bug must not stop delivery to the others.
        }
      });
    }
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    this.open();
    checkKey(channel, 'channel');
    let handlers = this.channels.get(channel);
    if (!handlers) this.channels.set(channel, (handlers = new Set()));
    handlers.add(handler);
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.channels.get(channel) === handlers) this.channels.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.entries.clear();
    this.channels.clear();
  }

  /** Drops every expired entry; runs on the timer, callable from tests. */
  sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  private open(): void {
    if (this.closed) throw new StateError('STATE_INVALID', 'state store is closed');
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private put(key: string, value: string, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }
}

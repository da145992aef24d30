import type { Logger } from 'pino';
import type { Store } from '../storage/types.js';

/** The Store's usage row for a quota period: `<quota name>:2026-11-23` (day) or `<quota name>:2026-11` (month), UTC. */
export function quotaPeriod(name: string, period: 'day' | 'month', now: number): { period: string; resetS: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const mm = String(m + 1).padStart(2, '0');
  if (period === 'day') {
    const end = Date.UTC(y, m, d.getUTCDate() + 1);
    return { period: `${name}:${y}-${mm}-${String(d.getUTCDate()).padStart(2, '0')}`, resetS: Math.ceil((end - now) / 1000) };
  }
  return { period: `${name}:${y}-${mm}`, resetS: Math.ceil((Date.UTC(y, m + 1, 1) - now) / 1000) };
}

interface Entry {
  readonly consumerId: string;
  readonly period: string;
  /** The Store's total when last read or flushed (every process's flushed counts). */
  base: number;
  /** Counted here, not yet sent. */
  pending: number;
  /** Sent in a flush that has not answered yet. */
  sending: number;
  loading: Promise<void> | undefined;
  loaded: boolean;
}

/**
 * Quotas counted in memory and added to the Store in batches, never one write per request. Each
 * flush adds this process's counts in one statement and reads back the totals, which then include
 * what the other processes flushed. What can go wrong, by design:
 * - a crash loses at most one `flushInterval` of this process's counting (a graceful stop flushes);
 * - N processes may together admit up to what they count in one interval beyond the quota.
 * A failed flush keeps the counts for the next one.
 */
export class QuotaCounter {
  private readonly entries = new Map<string, Entry>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: () => Promise<Store>,
    flushIntervalMs: number,
    private readonly logger: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Counts one request if the quota allows it: the quota left after it, or -1 when it is spent (and
   * nothing is counted). A promise only the first time a consumer's period is seen (its total is read).
   */
  take(consumerId: string, period: string, limit: number): number | Promise<number> {
    const key = consumerId + '\u0000' + period;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { consumerId, period, base: 0, pending: 0, sending: 0, loading: undefined, loaded: false };
      this.entries.set(key, entry);
    }
    if (entry.loaded) return this.count(entry, limit);
    const loaded = entry;
    loaded.loading ??= this.load(loaded);
    return loaded.loading.then(() => this.count(loaded, limit));
  }

  private count(entry: Entry, limit: number): number {
    const used = entry.base + entry.sending + entry.pending;
    if (used >= limit) return -1;
    entry.pending++;
    return limit - used - 1;
  }

  private async load(entry: Entry): Promise<void> {
    try {
      const store = await this.store();
      entry.base = await store.usage.get(entry.consumerId, entry.period);
      entry.loaded = true;
    } finally {
      entry.loading = undefined;
    }
  }

  /** Sends every pending count in one Store call; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.flushNow().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    const batch: Entry[] = [];
    for (const entry of this.entries.values()) {
      if (entry.pending === 0) continue;
      entry.sending = entry.pending;
      entry.pending = 0;
      batch.push(entry);
    }
    if (batch.length === 0) return this.forgetIdle();
    try {
      const store = await this.store();
      const totals = await store.usage.add(batch.map((e) => ({ consumerId: e.consumerId, period: e.period, count: e.sending })));
      batch.forEach((e, i) => {
        e.base = totals[i]!;
        e.sending = 0;
      });
    } catch (error) {
      for (const e of batch) {
        e.pending += e.sending;
        e.sending = 0;
      }
      this.logger.warn({ err: error, entries: batch.length }, 'quota flush failed; the counts are kept for the next flush');
    }
  }

  /** Periods with nothing pending are read again when next seen: memory stays bounded by the active consumers. */
  private forgetIdle(): void {
    if (this.entries.size < 10_000) return;
    for (const [key, e] of this.entries) if (e.pending === 0 && e.sending === 0 && e.loading === undefined) this.entries.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

interface Entry<V> {
  readonly value: V;
  readonly validUntil: number;
  /** The insertion counter when the entry last moved to the end of the Map. */
  stamp: number;
}

/**
 * A bounded LRU with a per-entry deadline, on a Map (insertion order; a hit is re-inserted at the
 * end, the oldest entry goes first when full). A hit on an entry already among the newest quarter
 * stays where it is: moving it would change nothing the next `maxEntries / 4` insertions can see,
 * and the delete-and-set costs more than the lookup on every request of a hot credential. Time is passed in, so callers use their injected
 * clock. Shared by the authentication caches: none of them may ever return an entry past its
 * deadline, and none may grow without bound under a flood of distinct keys.
 */
export class TtlLru<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private insertions = 0;

  constructor(
    private readonly maxEntries: number,
    /** Default lifetime for `set`; 0 (or maxEntries 0) disables caching. */
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.validUntil) {
      this.entries.delete(key);
      return undefined;
    }
    if (this.insertions - entry.stamp > this.maxEntries / 4) {
      this.entries.delete(key);
      entry.stamp = ++this.insertions;
      this.entries.set(key, entry);
    }
    return entry.value;
  }

  /** Stores until `now + ttlMs`, or until `validUntil` when that is sooner. */
  set(key: string, value: V, now: number, validUntil = now + this.ttlMs): void {
    if (this.maxEntries === 0 || this.ttlMs === 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, validUntil: Math.min(validUntil, now + this.ttlMs), stamp: ++this.insertions });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Drops every entry whose value matches (a revoked user's cached logins, say). */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

import type { Credential } from '../../storage/types.js';

interface Entry {
  readonly credential: Credential;
  readonly validUntil: number;
}

/**
 * Credentials found in the store, keyed by key id: the record (with its hash), never the key. A
 * bounded LRU on a Map (insertion order; a hit is re-inserted at the end) with a fixed TTL, so a
 * change that was not broadcast (a revocation seen by another process without Redis) is picked up
 * within `ttlMs`. Only positive lookups are kept.
 */
export class CredentialCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(keyId: string, now: number): Credential | undefined {
    const entry = this.entries.get(keyId);
    if (entry === undefined) return undefined;
    this.entries.delete(keyId);
    if (now >= entry.validUntil) return undefined;
    this.entries.set(keyId, entry);
    return entry.credential;
  }

  set(keyId: string, credential: Credential, now: number): void {
    if (this.maxEntries === 0 || this.ttlMs === 0) return;
    this.entries.delete(keyId);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(keyId, { credential, validUntil: now + this.ttlMs });
  }

  delete(keyId: string): boolean {
    return this.entries.delete(keyId);
  }

  clear(): void {
    this.entries.clear();
  }
}

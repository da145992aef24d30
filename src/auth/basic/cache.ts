import type { Credential } from '../../storage/types.js';

interface Entry {
  readonly username: string;
  readonly credential: Credential;
  readonly validUntil: number;
}

/**
 * Successful verifications, keyed by SHA-256(username ':' password) in hex: the password is never
 * kept, and a different password for the same user misses. A bounded LRU on a Map with a fixed TTL;
 * `evictUser` drops every entry of a username (a revocation or a password change).
 */
export class VerifiedCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): Credential | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (now >= entry.validUntil) return undefined;
    this.entries.set(key, entry);
    return entry.credential;
  }

  set(key: string, username: string, credential: Credential, now: number): void {
    if (this.maxEntries === 0 || this.ttlMs === 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { username, credential, validUntil: now + this.ttlMs });
  }

  evictUser(username: string): void {
    for (const [key, entry] of this.entries) if (entry.username === username) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

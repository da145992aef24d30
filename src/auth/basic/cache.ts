import { TtlLru } from '../../core/ttl-lru.js';
import type { Credential } from '../../storage/types.js';

interface Entry {
  readonly username: string;
  readonly credential: Credential;
}

/**
 * Successful verifications, keyed by SHA-256(username ':' password) in hex: the password is never
 * kept, and a different password for the same user misses. A bounded LRU with a fixed TTL;
 * `evictUser` drops every entry of a username (a revocation or a password change).
 */
export class VerifiedCache {
  private readonly lru: TtlLru<Entry>;

  constructor(maxEntries: number, ttlMs: number) {
    this.lru = new TtlLru(maxEntries, ttlMs);
  }

  get size(): number {
    return this.lru.size;
  }

  get(key: string, now: number): Credential | undefined {
    return this.lru.get(key, now)?.credential;
  }

  set(key: string, username: string, credential: Credential, now: number): void {
    this.lru.set(key, { username, credential }, now);
  }

  evictUser(username: string): void {
    this.lru.deleteWhere((entry) => entry.username === username);
  }

  clear(): void {
    this.lru.clear();
  }
}

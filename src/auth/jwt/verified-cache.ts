import { hash } from 'node:crypto';
import type { Principal } from '../../core/context.js';
import { TtlLru } from '../../core/ttl-lru.js';
import type { VerificationKey } from './keys.js';

interface Entry {
  readonly principal: Principal;
  /** The key that verified the token: a retired key (rotated out of the JWKS) voids the entry. */
  readonly key: VerificationKey;
}

/**
 * Tokens already verified, keyed by SHA-256 of the token (the token itself is never kept as a key),
 * in a bounded LRU (core/ttl-lru). An entry is never used past the token's `exp` (RFC 7519 §4.1.4)
 * nor past `ttlMs` after verification, nor after its key was rotated out; a repeat token costs one
 * hash and one map lookup.
 */
export class VerifiedTokenCache {
  hits = 0;
  misses = 0;
  private readonly entries: TtlLru<Entry>;

  constructor(maxEntries: number, ttlMs: number) {
    this.entries = new TtlLru(maxEntries, ttlMs);
  }

  get size(): number {
    return this.entries.size;
  }

  static keyOf(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  get(key: string, now: number): Principal | undefined {
    const entry = this.entries.get(key, now);
    if (entry === undefined || entry.key.retired) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    return entry.principal;
  }

  /** `expMs`: the token's `exp` in epoch ms, or undefined when it has none. */
  set(key: string, principal: Principal, verifiedWith: VerificationKey, now: number, expMs: number | undefined): void {
    const validUntil = expMs ?? Number.POSITIVE_INFINITY;
    if (validUntil <= now) return;
    this.entries.set(key, { principal, key: verifiedWith }, now, validUntil);
  }

  clear(): void {
    this.entries.clear();
  }
}

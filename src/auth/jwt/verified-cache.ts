import { createHash } from 'node:crypto';
import type { Principal } from '../../core/context.js';
import type { VerificationKey } from './keys.js';

interface Entry {
  readonly principal: Principal;
  /** Epoch ms after which the entry is dead: min(exp - ... , verifiedAt + ttl). */
  readonly validUntil: number;
  /** The key that verified the token: a retired key (rotated out of the JWKS) voids the entry. */
  readonly key: VerificationKey;
}

/**
 * Tokens already verified, keyed by SHA-256 of the token (the token itself is never kept as a key).
 * Bounded LRU on a Map (insertion order; a hit is re-inserted at the end). An entry is never used
 * past the token's `exp` (RFC 7519 §4.1.4) nor past `ttlMs` after verification, nor after its key
 * was rotated out; a repeat token costs one hash and one map lookup.
 */
export class VerifiedTokenCache {
  hits = 0;
  misses = 0;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(hash: string, now: number): Principal | undefined {
    const entry = this.entries.get(hash);
    if (entry === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.entries.delete(hash);
    if (now >= entry.validUntil || entry.key.retired) {
      this.misses += 1;
      return undefined;
    }
    this.entries.set(hash, entry);
    this.hits += 1;
    return entry.principal;
  }

  /** `expMs`: the token's `exp` in epoch ms, or undefined when it has none. */
  set(hash: string, principal: Principal, key: VerificationKey, now: number, expMs: number | undefined): void {
    if (this.maxEntries === 0) return;
    const validUntil = Math.min(expMs ?? Number.POSITIVE_INFINITY, now + this.ttlMs);
    if (validUntil <= now) return;
    this.entries.delete(hash);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, { principal, validUntil, key });
  }

  clear(): void {
    this.entries.clear();
  }
}

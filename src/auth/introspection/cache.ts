import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { StateStore } from '../../state/types.js';
import type { IntrospectionResponse } from './client.js';

/** One cached answer. `until` is epoch ms; `source` ties it to the server and mode that gave it. */
export interface CachedAnswer {
  readonly response: IntrospectionResponse;
  readonly until: number;
  readonly source: string;
}

export interface AnswerCacheOptions {
  /** Endpoint and response mode: a route that wants RFC 9701 signed answers never reuses plain JSON ones. */
  readonly source: string;
  readonly positiveTtlMs: number;
  readonly negativeTtlMs: number;
  readonly maxEntries: number;
  readonly now: () => number;
  readonly state: () => Promise<StateStore>;
  readonly logger: Logger;
}

/** SHA-256 of the token, base64url: the only form in which a token is ever kept (RFC 7662 §4). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Introspection answers cached in two tiers: a bounded LRU in this process, then the StateStore
 * under `introspection:<hash>` so other workers and instances reuse one introspection (memory
 * StateStore: this process only; Redis: everyone). What is cached is the server's answer, never a
 * decision: each route checks its required scopes and `exp` against it on every request.
 * - active: at most `positiveTtl`, and never past the token's `exp` (RFC 7662 §4 allows caching,
 *   and warns that a cached answer outlives a revocation: the TTL is that window);
 * - inactive: `negativeTtl`, short, so a garbage flood costs the server one call per token per window;
 * - an answer from another source (another endpoint, or plain JSON where a route wants RFC 9701
 *   signed answers verified with its own issuer and JWKS) is ignored.
 * The StateStore is an optimisation: if it fails, the error is logged and the server is asked.
 */
export class AnswerCache {
  private readonly entries = new Map<string, CachedAnswer>();

  constructor(private readonly options: AnswerCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  async get(hash: string): Promise<CachedAnswer | undefined> {
    const local = this.local(hash);
    if (local !== undefined) return local;
    try {
      const raw = await (await this.options.state()).get(`introspection:${hash}`);
      if (raw === null) return undefined;
      const answer = JSON.parse(raw) as CachedAnswer;
      if (!this.usable(answer)) return undefined;
      this.remember(hash, answer);
      return answer;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'introspection: shared cache read failed; asking the server');
      return undefined;
    }
  }

  /** Caches an answer from the server (an active answer already past its `exp` is not cached). */
  async set(hash: string, response: IntrospectionResponse): Promise<void> {
    const now = this.options.now();
    const { positiveTtlMs, negativeTtlMs, source } = this.options;
    const exp = typeof response.exp === 'number' ? response.exp * 1000 : Number.POSITIVE_INFINITY;
    const until = response.active ? Math.min(now + positiveTtlMs, exp) : now + negativeTtlMs;
    if (until <= now) return;
    const answer: CachedAnswer = { response, until, source };
    this.remember(hash, answer);
    try {
      await (await this.options.state()).set(`introspection:${hash}`, JSON.stringify(answer), until - now);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'introspection: shared cache write failed');
    }
  }

  clear(): void {
    this.entries.clear();
  }

  private local(hash: string): CachedAnswer | undefined {
    const entry = this.entries.get(hash);
    if (entry === undefined) return undefined;
    this.entries.delete(hash);
    if (!this.usable(entry)) return undefined;
    this.entries.set(hash, entry);
    return entry;
  }

  private usable(answer: CachedAnswer): boolean {
    return (
      typeof answer === 'object' && answer !== null && answer.source === this.options.source &&
      typeof answer.until === 'number' && answer.until > this.options.now() && typeof answer.response?.active === 'boolean'
    );
  }

  private remember(hash: string, answer: CachedAnswer): void {
    if (this.options.maxEntries === 0) return;
    this.entries.delete(hash);
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, answer);
  }
}

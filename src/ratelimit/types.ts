/**
 * The rate-limit engine's vocabulary, shared by the memory, primary (cluster IPC) and Redis
 * backends. A decision covers every limit of one request at once: the request is admitted only when
 * every limit admits it, and then it counts against all of them.
 */
export type Algorithm = 'gcra' | 'sliding-window';

/** One limit, compiled at load: numbers only, nothing parsed on the request path. */
export interface LimitRule {
  /** Shown in `RateLimit-Policy` and `RateLimit` (an sf-string). */
  readonly name: string;
  readonly algorithm: Algorithm;
  /** Requests per window. */
  readonly limit: number;
  readonly windowMs: number;
  /** GCRA only: how many requests may arrive at once (the bucket size); `limit` for sliding windows. */
  readonly burst: number;
}

/** A limit applied to one key (the rule's counters for one client, consumer, route ...). */
export interface LimitCheck {
  readonly key: string;
  readonly rule: LimitRule;
}

/** What one limit says about the request. Times in milliseconds from now. */
export interface LimitResult {
  readonly allowed: boolean;
  /** Requests still available under this limit after this one (0 when refused). */
  readonly remaining: number;
  /** When the limit is back to full (GCRA) or the current window ends (sliding window). */
  readonly resetMs: number;
  /** When refused: how long until a request would be admitted. 0 when allowed. */
  readonly retryAfterMs: number;
}

export interface LimitOutcome {
  readonly allowed: boolean;
  /** One per check, in order. */
  readonly results: readonly LimitResult[];
}

/**
 * Decides a request. Synchronous backends (memory) return the outcome itself, so the pipeline stays
 * synchronous; remote ones (Redis, the cluster primary) return a promise and may reject when the
 * backend is unreachable (the policy then applies its failure mode).
 */
export interface LimiterBackend {
  readonly kind: 'memory' | 'primary' | 'redis';
  decide(checks: readonly LimitCheck[], now: number): LimitOutcome | Promise<LimitOutcome>;
}

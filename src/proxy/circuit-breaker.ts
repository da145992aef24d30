/**
 * One target's circuit breaker (the pattern of Nygard's "Release It!", as Envoy outlier detection and
 * resilience4j apply it). Pure state: every call gets `now` (ms), so tests drive time by hand.
 *
 * - closed: traffic flows; failures are counted. `consecutiveFailures` in a row, or a failure ratio at
 *   or above `failureRatio` over a sliding `window` holding at least `minimumRequests` results, open it.
 * - open: the target is skipped until `openUntil`. Each re-open doubles the cool-down, up to `maxOpenMs`.
 * - half-open: after the cool-down at most `halfOpenRequests` probes go through at once. The first
 *   result decides: success closes (and resets the cool-down), failure re-opens.
 *
 * Hand-written: the libraries (opossum, cockatiel) wrap a function call with their own timers and
 * promises per call; here the breaker must sit inside the balancer's pick and undici's raw dispatch
 * handler, allocate nothing per request and read an injected clock.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  /** Consecutive failures that open the circuit; 0 turns the rule off. */
  readonly consecutiveFailures: number;
  /** Failure ratio (0..1] over the window that opens the circuit; 0 turns the rule off. */
  readonly failureRatio: number;
  readonly windowMs: number;
  readonly minimumRequests: number;
  readonly openMs: number;
  readonly maxOpenMs: number;
  /** Probes in flight at once while half-open; Infinity lets all traffic probe (passive health). */
  readonly halfOpenRequests: number;
  /** A probe with no result after this long (its client went away, say) frees its slot. */
  readonly probeTimeoutMs: number;
}

/** Buckets of the sliding window: the ratio is exact to one tenth of the window. */
const BUCKETS = 10;

export interface Transition {
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Cool-down just started, when `to` is open. */
  readonly openMs: number;
  readonly failures: number;
}

export class CircuitBreaker {
  state: CircuitState = 'closed';
  openUntil = 0;
  consecutive = 0;
  /** Re-opens since the circuit last closed: the exponent of the cool-down. */
  private reopens = 0;
  private readonly bucketMs: number;
  private readonly bucketStart: number[] = new Array<number>(BUCKETS).fill(-Infinity);
  private readonly bucketTotal: number[] = new Array<number>(BUCKETS).fill(0);
  private readonly bucketFailed: number[] = new Array<number>(BUCKETS).fill(0);
  /** Start times of the probes in flight while half-open. */
  private readonly probes: number[] = [];

  constructor(
    readonly settings: BreakerSettings,
    /** Told about every state change (metrics and the log line). */
    private readonly onTransition: (t: Transition) => void,
  ) {
    this.bucketMs = Math.max(1, Math.ceil(settings.windowMs / BUCKETS));
  }

  /** Whether a request may go to this target now. No side effect: the balancer asks every target. */
  canPass(now: number): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') return now >= this.openUntil;
    this.dropLapsedProbes(now);
    return this.probes.length < this.settings.halfOpenRequests;
  }

  /** The balancer chose this target: a probe slot is taken when the circuit is (or now becomes) half-open. */
  admit(now: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'open') this.moveTo('half_open', now);
    if (this.settings.halfOpenRequests !== Infinity) this.probes.push(now);
  }

  onSuccess(now: number): void {
    this.consecutive = 0;
    if (this.state === 'half_open') {
      this.reopens = 0;
      this.moveTo('closed', now);
      return;
    }
    if (this.state === 'closed' && this.settings.failureRatio > 0) this.record(now, false);
  }

  onFailure(now: number): void {
    if (this.state === 'open') return; // a late answer to a request sent before the circuit opened
    this.consecutive++;
    if (this.state === 'half_open') {
      this.reopens++;
      this.moveTo('open', now);
      return;
    }
    const s = this.settings;
    if (s.consecutiveFailures > 0 && this.consecutive >= s.consecutiveFailures) {
      this.moveTo('open', now);
      return;
    }
    if (s.failureRatio === 0) return;
    this.record(now, true);
    const { total, failed } = this.totals(now);
    if (total >= s.minimumRequests && failed / total >= s.failureRatio) this.moveTo('open', now);
  }

  /** Seconds until a request may pass again, for Retry-After (RFC 9110 section 10.2.3); at least 1. */
  retryAfterSeconds(now: number): number {
    return Math.max(1, Math.ceil((this.openUntil - now) / 1000));
  }

  /** Adds one result to its bucket; a bucket left from an older turn of the ring starts again at 0. */
  private record(now: number, failed: boolean): void {
    const start = now - (now % this.bucketMs);
    const i = Math.floor(now / this.bucketMs) % BUCKETS;
    if (this.bucketStart[i] !== start) {
      this.bucketStart[i] = start;
      this.bucketTotal[i] = 0;
      this.bucketFailed[i] = 0;
    }
    this.bucketTotal[i]!++;
    if (failed) this.bucketFailed[i]!++;
  }

  /** Results in the window ending at `now` (only needed after a failure: a success cannot open it). */
  private totals(now: number): { total: number; failed: number } {
    const start = now - (now % this.bucketMs);
    let total = 0;
    let failures = 0;
    const oldest = start - (BUCKETS - 1) * this.bucketMs;
    for (let b = 0; b < BUCKETS; b++) {
      if (this.bucketStart[b]! < oldest) continue;
      total += this.bucketTotal[b]!;
      failures += this.bucketFailed[b]!;
    }
    return { total, failed: failures };
  }

  private dropLapsedProbes(now: number): void {
    const limit = now - this.settings.probeTimeoutMs;
    while (this.probes.length > 0 && this.probes[0]! <= limit) this.probes.shift();
  }

  private moveTo(to: CircuitState, now: number): void {
    const from = this.state;
    const failures = this.consecutive;
    this.state = to;
    this.probes.length = 0;
    let openMs = 0;
    if (to === 'open') {
      openMs = Math.min(this.settings.maxOpenMs, this.settings.openMs * 2 ** this.reopens);
      this.openUntil = now + openMs;
    }
    if (to !== 'half_open') {
      // A fresh start: the window and the run of failures belong to the state just left.
      this.consecutive = 0;
      this.bucketStart.fill(-Infinity);
    }
    this.onTransition({ from, to, openMs, failures });
  }
}

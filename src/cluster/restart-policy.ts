export interface RestartPolicyOptions {
  /** Delay before the first restart in a window; doubles with every further crash. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** More crashes than this within `windowMs` is a crash loop: stop restarting. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  maxRestarts: 10,
  windowMs: 60_000,
};

/**
 * When to restart a worker that died: exponential back-off over the crashes of a sliding window,
 * and a cap. A worker that crashes on every start is a bug or a broken environment that restarting
 * will not fix; past the cap the primary gives up so a supervisor (systemd, Kubernetes) sees it.
 */
export class RestartPolicy {
  private crashes: number[] = [];

  constructor(
    private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a crash; returns the delay before restarting, or undefined when the cap is reached. */
  next(): number | undefined {
    const at = this.now();
    this.crashes = this.crashes.filter((t) => at - t < this.options.windowMs);
    this.crashes.push(at);
    if (this.crashes.length > this.options.maxRestarts) return undefined;
    return Math.min(this.options.baseDelayMs * 2 ** (this.crashes.length - 1), this.options.maxDelayMs);
  }
}

import type { Logger } from 'pino';
import { parseDuration } from '../config/units.js';
import type { UpstreamConfig } from '../config/schema.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { UpstreamTarget } from './upstream-target.js';
import { ActiveHealthChecker } from './health-check.js';

/**
 * A named pool of targets: picks one per request (round robin with weights, or least requests),
 * skipping targets that passive or active health checks marked down.
 */
export class Upstream {
  readonly targets: readonly UpstreamTarget[];
  readonly retries: number;
  readonly totalTimeoutMs: number;
  private readonly leastRequests: boolean;
  private readonly passiveFailures: number;
  private readonly cooldownMs: number;
  private readonly checker: ActiveHealthChecker | undefined;

  constructor(
    readonly name: string,
    readonly config: UpstreamConfig,
    configDir: string,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {
    this.targets = config.targets.map((t) => new UpstreamTarget(t.url, t.weight, config, configDir));
    this.retries = config.retries;
    this.totalTimeoutMs = parseDuration(config.timeouts.total);
    this.leastRequests = config.balancing === 'least-requests';
    this.passiveFailures = config.healthChecks.passive.failures;
    this.cooldownMs = parseDuration(config.healthChecks.passive.cooldown);
    for (const t of this.targets) metrics.targetHealth.labels(name, t.origin).set(1);
    const active = config.healthChecks.active;
    this.checker = active === undefined ? undefined : new ActiveHealthChecker(this, active, metrics, logger);
  }

  start(): void {
    this.checker?.start();
  }

  /** A target to send to, avoiding `exclude` (the one that just failed) when another is available. */
  pick(now: number, exclude?: UpstreamTarget): UpstreamTarget | undefined {
    const targets = this.targets;
    if (targets.length === 1) {
      const only = targets[0]!;
      return only !== exclude && only.isAvailable(now) ? only : undefined;
    }
    return this.leastRequests ? this.pickLeast(now, exclude) : this.pickWeighted(now, exclude);
  }

  private pickLeast(now: number, exclude?: UpstreamTarget): UpstreamTarget | undefined {
    let best: UpstreamTarget | undefined;
    for (const t of this.targets) {
      if (t === exclude || !t.isAvailable(now)) continue;
      if (best === undefined || t.inflight / t.weight < best.inflight / best.weight) best = t;
    }
    return best;
  }

  /** Smooth weighted round robin: spreads heavier targets evenly instead of in bursts. */
  private pickWeighted(now: number, exclude?: UpstreamTarget): UpstreamTarget | undefined {
    let best: UpstreamTarget | undefined;
    let total = 0;
    for (const t of this.targets) {
      if (t === exclude || !t.isAvailable(now)) continue;
      t.currentWeight += t.weight;
      total += t.weight;
      if (best === undefined || t.currentWeight > best.currentWeight) best = t;
    }
    if (best !== undefined) best.currentWeight -= total;
    return best;
  }

  /** Passive health: a connect failure, reset or timeout. */
  recordFailure(target: UpstreamTarget, now: number, code: string): void {
    this.metrics.upstreamError(this.name, code);
    if (this.passiveFailures === 0) return;
    target.consecutiveFailures++;
    if (target.consecutiveFailures >= this.passiveFailures && target.downUntil <= now) {
      target.downUntil = now + this.cooldownMs;
      this.metrics.targetHealth.labels(this.name, target.origin).set(0);
      this.logger.warn({ upstream: this.name, target: target.origin, failures: target.consecutiveFailures }, 'upstream target marked down');
    }
  }

  recordSuccess(target: UpstreamTarget): void {
    if (target.consecutiveFailures !== 0 || target.downUntil !== 0) {
      if (target.downUntil !== 0) this.metrics.targetHealth.labels(this.name, target.origin).set(target.activeHealthy ? 1 : 0);
      target.consecutiveFailures = 0;
      target.downUntil = 0;
    }
  }

  async close(): Promise<void> {
    this.checker?.stop();
    await Promise.allSettled(this.targets.map((t) => t.pool.close()));
  }
}

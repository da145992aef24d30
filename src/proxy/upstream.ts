import type { Duplex } from 'node:stream';
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
  /** Open WebSocket tunnels (client and upstream sockets): cut when this upstream is closed. */
  readonly tunnels = new Set<Duplex>();
  private readonly leastRequests: boolean;
  private readonly passiveFailures: number;
  private readonly cooldownMs: number;
  private readonly checker: ActiveHealthChecker | undefined;
  /** Where least-requests starts looking, so ties rotate instead of always going to the first target. */
  private cursor = 0;

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

  /** An available target, never one in `exclude` (those a retry already tried); undefined when none is left. */
  pick(now: number, exclude?: readonly UpstreamTarget[]): UpstreamTarget | undefined {
    const targets = this.targets;
    if (targets.length === 1 && exclude === undefined) {
      const only = targets[0]!;
      return only.isAvailable(now) ? only : undefined;
    }
    return this.leastRequests ? this.pickLeast(now, exclude) : this.pickWeighted(now, exclude);
  }

  private pickLeast(now: number, exclude?: readonly UpstreamTarget[]): UpstreamTarget | undefined {
    const targets = this.targets;
    const start = this.cursor;
    let best: UpstreamTarget | undefined;
    for (let n = 0; n < targets.length; n++) {
      const t = targets[(start + n) % targets.length]!;
      if (exclude?.includes(t) === true || !t.isAvailable(now)) continue;
      if (best === undefined || t.inflight / t.weight < best.inflight / best.weight) best = t;
    }
    this.cursor = (start + 1) % targets.length;
    return best;
  }

  /** Smooth weighted round robin (nginx): spreads heavier targets evenly instead of in bursts. */
  private pickWeighted(now: number, exclude?: readonly UpstreamTarget[]): UpstreamTarget | undefined {
    let best: UpstreamTarget | undefined;
    let total = 0;
    for (const t of this.targets) {
      if (exclude?.includes(t) === true || !t.isAvailable(now)) continue;
      t.currentWeight += t.weight;
      total += t.weight;
      if (best === undefined || t.currentWeight > best.currentWeight) best = t;
    }
    if (best !== undefined) best.currentWeight -= total;
    return best;
  }

  /**
   * Passive health: a connect failure, reset or timeout. Once a cooldown has passed the target
   * gets traffic again; its failure count is kept, so one more failure sends it back down at once.
   */
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

  /** Time from dispatch to the response head. */
  recordLatency(seconds: number): void {
    this.metrics.upstream(this.name, seconds);
  }

  async close(): Promise<void> {
    this.checker?.stop();
    for (const socket of this.tunnels) socket.destroy();
    this.tunnels.clear();
    await Promise.allSettled([...this.targets.map((t) => t.pool.close()), this.checker?.close()]);
  }
}

import type { Logger } from 'pino';
import { parseDuration } from '../config/units.js';
import type { UpstreamConfig } from '../config/schema.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Upstream } from './upstream.js';
import type { UpstreamTarget } from './upstream-target.js';

type ActiveConfig = NonNullable<UpstreamConfig['healthChecks']['active']>;

/** Probes every target on a timer; thresholds avoid flapping on a single lost probe. */
export class ActiveHealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly expect: ReadonlySet<number>;

  constructor(
    private readonly upstream: Upstream,
    private readonly config: ActiveConfig,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {
    this.intervalMs = parseDuration(config.interval);
    this.timeoutMs = parseDuration(config.timeout);
    this.expect = new Set(config.expectStatus);
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.probeAll();
    this.timer = setInterval(() => void this.probeAll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async probeAll(): Promise<void> {
    await Promise.all(this.upstream.targets.map((t) => this.probe(t)));
  }

  private async probe(target: UpstreamTarget): Promise<void> {
    let ok = false;
    try {
      const response = await target.pool.request({
        method: 'GET',
        path: this.config.path,
        headers: { host: target.hostHeader, 'user-agent': 'portcullis-health-check' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body.dump();
      ok = this.expect.has(response.statusCode);
    } catch {
      ok = false;
    }
    this.record(target, ok);
  }

  private record(target: UpstreamTarget, ok: boolean): void {
    if (ok) {
      target.probeFailures = 0;
      target.probeSuccesses++;
      if (!target.activeHealthy && target.probeSuccesses >= this.config.healthyThreshold) this.mark(target, true);
    } else {
      target.probeSuccesses = 0;
      target.probeFailures++;
      if (target.activeHealthy && target.probeFailures >= this.config.unhealthyThreshold) this.mark(target, false);
    }
  }

  private mark(target: UpstreamTarget, healthy: boolean): void {
    target.activeHealthy = healthy;
    this.metrics.targetHealth.labels(this.upstream.name, target.origin).set(healthy ? 1 : 0);
    this.logger.warn({ upstream: this.upstream.name, target: target.origin, healthy }, 'active health check changed target state');
  }
}

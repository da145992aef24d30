import type { Logger } from 'pino';
import { Client } from 'undici';
import { parseDuration } from '../config/units.js';
import type { UpstreamConfig } from '../config/schema.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Upstream } from './upstream.js';
import type { UpstreamTarget } from './upstream-target.js';

type ActiveConfig = NonNullable<UpstreamConfig['healthChecks']['active']>;

/**
 * Probes every target on a timer; thresholds avoid flapping on a single lost probe. Each target is
 * probed over its own single connection, not the traffic pool: a pool saturated by slow requests
 * must not make the probe queue, time out and take a busy but healthy target out of service.
 */
export class ActiveHealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly expect: ReadonlySet<number>;
  private readonly clients = new Map<UpstreamTarget, Client>();
  /** Targets with a probe in flight: a slow probe is not stacked on by the next tick. */
  private readonly probing = new Set<UpstreamTarget>();

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
    this.timer = setInterval(() => void this.probeAll(), this.intervalMs);
    this.timer.unref();
    void this.probeAll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.stop();
    await Promise.allSettled([...this.clients.values()].map((c) => c.destroy()));
    this.clients.clear();
  }

  async probeAll(): Promise<void> {
    await Promise.all(this.upstream.targets.map((t) => this.probe(t)));
  }

  private client(target: UpstreamTarget): Client {
    let client = this.clients.get(target);
    if (client === undefined) {
      client = new Client(target.origin, { connect: target.tls, connectTimeout: this.timeoutMs, pipelining: 1 });
      this.clients.set(target, client);
    }
    return client;
  }

  private async probe(target: UpstreamTarget): Promise<void> {
    if (this.probing.has(target) || this.timer === undefined) return;
    this.probing.add(target);
    let ok = false;
    try {
      const response = await this.client(target).request({
        method: 'GET',
        path: this.config.path,
        headers: { host: target.hostHeader, 'user-agent': 'portcullis-health-check' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body.dump();
      ok = this.expect.has(response.statusCode);
    } catch {
      ok = false;
    } finally {
      this.probing.delete(target);
    }
    // A probe that lands after stop() (a reload retired this upstream) says nothing anymore.
    if (this.timer !== undefined) this.record(target, ok);
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
    const passiveUp = target.circuit?.state !== 'open';
    this.metrics.targetHealth.labels(this.upstream.name, target.origin).set(healthy && passiveUp ? 1 : 0);
    this.logger.warn({ upstream: this.upstream.name, target: target.origin, healthy }, 'active health check changed target state');
  }
}

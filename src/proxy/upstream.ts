import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { parseDuration } from '../config/units.js';
import type { UpstreamConfig } from '../config/schema.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { UpstreamTarget } from './upstream-target.js';
import { ActiveHealthChecker } from './health-check.js';
import { CircuitBreaker, type BreakerSettings, type CircuitState, type Transition } from './circuit-breaker.js';
import { GatewayError } from '../errors/index.js';

/** `portcullis_upstream_circuit_state` values: higher is worse, so the cluster aggregate takes the max. */
const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, half_open: 1, open: 2 };

/**
 * A named pool of targets: picks one per request (round robin with weights, or least requests),
 * skipping targets that active health checks marked down or whose circuit is open.
 *
 * Passive health and the circuit breaker are one mechanism: plain `healthChecks.passive` is a breaker
 * with only the consecutive-failures rule, a fixed cool-down and every request allowed to probe once
 * it ends; `circuitBreaker` adds the failure ratio, failing statuses, limited probes and a growing
 * cool-down, and replaces the passive settings.
 */
export class Upstream {
  readonly targets: readonly UpstreamTarget[];
  readonly retries: number;
  readonly totalTimeoutMs: number;
  /** Open WebSocket tunnels (client and upstream sockets): cut when this upstream is closed. */
  readonly tunnels = new Set<Duplex>();
  private readonly leastRequests: boolean;
  /** Statuses that count as failures; empty under plain passive health (a 500 is an answer). */
  private readonly failureStatuses: ReadonlySet<number>;
  /** True when `circuitBreaker` is configured: an empty pool then answers GW_CIRCUIT_OPEN. */
  private readonly breakerConfigured: boolean;
  private readonly checker: ActiveHealthChecker | undefined;
  /** Where least-requests starts looking, so ties rotate instead of always going to the first target. */
  private cursor = 0;

  constructor(
    readonly name: string,
    readonly config: UpstreamConfig,
    configDir: string,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    /** Milliseconds since the epoch; tests pass a fake to drive cool-downs. */
    readonly now: () => number = Date.now,
  ) {
    this.targets = config.targets.map((t) => new UpstreamTarget(t.url, t.weight, config, configDir));
    this.retries = config.retries;
    this.totalTimeoutMs = parseDuration(config.timeouts.total);
    this.leastRequests = config.balancing === 'least-requests';
    this.breakerConfigured = config.circuitBreaker !== undefined;
    this.failureStatuses = new Set(config.circuitBreaker?.failureStatuses ?? []);
    const settings = breakerSettings(config);
    for (const t of this.targets) {
      metrics.targetHealth.labels(name, t.origin).set(1);
      if (settings === undefined) continue;
      t.circuit = new CircuitBreaker(settings, (transition) => this.reportTransition(t, transition));
      metrics.circuitState.labels(name, t.origin).set(CIRCUIT_STATE_VALUE.closed);
    }
    const active = config.healthChecks.active;
    this.checker = active === undefined ? undefined : new ActiveHealthChecker(this, active, metrics, logger);
  }

  start(): void {
    this.checker?.start();
  }

  /** An available target, never one in `exclude` (those a retry already tried); undefined when none is left. */
  pick(now: number, exclude?: readonly UpstreamTarget[]): UpstreamTarget | undefined {
    const targets = this.targets;
    let picked: UpstreamTarget | undefined;
    if (targets.length === 1 && exclude === undefined) {
      const only = targets[0]!;
      picked = only.isAvailable(now) ? only : undefined;
    } else {
      picked = this.leastRequests ? this.pickLeast(now, exclude) : this.pickWeighted(now, exclude);
    }
    picked?.circuit?.admit(now);
    return picked;
  }

  /**
   * Why `pick` found nothing: with a circuit breaker configured and a circuit open, a fast 503
   * GW_CIRCUIT_OPEN whose Retry-After is the earliest end of a cool-down; otherwise GW_NO_HEALTHY_UPSTREAM.
   */
  unavailable(now: number): GatewayError {
    let retryAfter = Infinity;
    if (this.breakerConfigured) {
      for (const t of this.targets) {
        if (t.circuit !== undefined && t.circuit.state !== 'closed') retryAfter = Math.min(retryAfter, t.circuit.retryAfterSeconds(now));
      }
    }
    if (retryAfter === Infinity) return new GatewayError('GW_NO_HEALTHY_UPSTREAM', { reason: `no available target in upstream ${this.name}` });
    return new GatewayError('GW_CIRCUIT_OPEN', {
      reason: `upstream ${this.name}: every available target's circuit is open`,
      headers: { 'retry-after': String(retryAfter) },
    });
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

  /** A connect failure, reset or timeout: always a failure of the target (passive health and breaker). */
  recordFailure(target: UpstreamTarget, now: number, code: string): void {
    this.metrics.upstreamError(this.name, code);
    target.circuit?.onFailure(now);
  }

  /** A complete exchange: a success, unless its status is one of the breaker's `failureStatuses`. */
  recordSuccess(target: UpstreamTarget, now: number = this.now(), status = 200): void {
    const circuit = target.circuit;
    if (circuit === undefined) return;
    if (this.failureStatuses.has(status)) circuit.onFailure(now);
    else circuit.onSuccess(now);
  }

  /** Gauges, counter and one log line per state change of a target's circuit. */
  private reportTransition(target: UpstreamTarget, t: Transition): void {
    const { name, metrics } = this;
    metrics.circuitState.labels(name, target.origin).set(CIRCUIT_STATE_VALUE[t.to]);
    metrics.circuitTransitions.labels(name, target.origin, t.from, t.to).inc();
    if (t.to === 'open' || t.from === 'open') {
      metrics.targetHealth.labels(name, target.origin).set(t.to !== 'open' && target.activeHealthy ? 1 : 0);
    }
    const fields = { upstream: name, target: target.origin, circuit_from: t.from, circuit_to: t.to };
    if (t.to === 'open') this.logger.warn({ ...fields, failures: t.failures, open_for_ms: t.openMs }, 'upstream target marked down');
    else this.logger.info(fields, t.to === 'closed' ? 'upstream target recovered' : 'upstream target probed after cool-down');
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

function breakerSettings(config: UpstreamConfig): BreakerSettings | undefined {
  // A probe that has not answered within the time a healthy answer takes frees its slot.
  const probeTimeoutMs = parseDuration(config.timeouts.connect) + parseDuration(config.timeouts.headers);
  const breaker = config.circuitBreaker;
  if (breaker !== undefined) {
    return {
      consecutiveFailures: breaker.consecutiveFailures,
      failureRatio: breaker.failureRatio,
      windowMs: parseDuration(breaker.window),
      minimumRequests: breaker.minimumRequests,
      openMs: parseDuration(breaker.openFor),
      maxOpenMs: parseDuration(breaker.maxOpenFor),
      halfOpenRequests: breaker.halfOpenRequests,
      probeTimeoutMs,
    };
  }
  const passive = config.healthChecks.passive;
  if (passive.failures === 0) return undefined;
  const cooldown = parseDuration(passive.cooldown);
  return {
    consecutiveFailures: passive.failures,
    failureRatio: 0,
    windowMs: 0,
    minimumRequests: 1,
    openMs: cooldown,
    maxOpenMs: cooldown,
    halfOpenRequests: Infinity,
    probeTimeoutMs,
  };
}

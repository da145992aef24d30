import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ConsumerCounter } from './consumer-counter.js';
import type { MetricsConfig } from './metrics-config.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The gateway's Prometheus metrics (docs/metrics.md lists them; deploy/grafana/portcullis.json
 * charts them). Label children are cached per (route, method, status), which saves prom-client's
 * `labels()` per request (a child's `inc` still hashes its labels: request() costs about 0.6 us for the
 * counter and the histogram). Per-consumer counts are plain numbers handed over at scrape time
 * (consumer-counter.ts), and the in-flight gauge is read at scrape time too.
 */
export class GatewayMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly duration: Histogram<'route' | 'status'>;
  private readonly upstreamDuration: Histogram<'upstream'>;
  private readonly upstreamErrors: Counter<'upstream' | 'code'>;
  private readonly decisions: Counter<'route' | 'policy' | 'decision'>;
  private readonly faults: Counter<'policy'>;
  private readonly limitFallbacks: Counter<'policy' | 'backend'>;
  readonly inflight: Gauge;
  readonly targetHealth: Gauge<'upstream' | 'target'>;
  readonly configReloads: Counter<'result'>;
  readonly tlsHandshakeErrors: Counter<'listener'>;
  // Traffic protection (issue 5: circuit breakers, concurrency, load shedding, connection limits).
  readonly circuitState: Gauge<'upstream' | 'target'>;
  readonly circuitTransitions: Counter<'upstream' | 'target' | 'from' | 'to'>;
  readonly connectionsRefused: Counter<'listener' | 'reason'>;
  readonly requestsShed: Counter;
  readonly loadShedding: Gauge;
  private readonly requestChildren = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<string> }>();
  private readonly upstreamChildren = new Map<string, Histogram.Internal<string>>();
  private readonly consumers: ConsumerCounter;
  private inflightSource: (() => number) | undefined;

  constructor(options: { defaultMetrics?: boolean; maxConsumerLabels?: number } = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'portcullis_requests_total',
      help: 'Requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'portcullis_request_duration_seconds',
      help: 'Time from request start to the last byte of the response, by route and status',
      labelNames: ['route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'portcullis_upstream_duration_seconds',
      help: 'Time from dispatch to the upstream response head, by upstream',
      labelNames: ['upstream'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'portcullis_upstream_errors_total',
      help: 'Upstream failures (connect, reset, timeout), by upstream and error code',
      labelNames: ['upstream', 'code'],
      registers,
    });
    this.decisions = new Counter({
      name: 'portcullis_policy_decisions_total',
      help: 'Denials and monitor-mode would-be denials, by route ("*" when no route matched), policy and decision (deny or monitor)',
      labelNames: ['route', 'policy', 'decision'],
      registers,
    });
    this.consumers = new ConsumerCounter(this.registry, options.maxConsumerLabels ?? 100);
    this.faults = new Counter({
      name: 'portcullis_policy_faults_total',
      help: 'Infrastructure faults inside policies (handled per failureMode), by policy',
      labelNames: ['policy'],
      registers,
    });
    this.limitFallbacks = new Counter({
      name: 'portcullis_rate_limit_fallbacks_total',
      help: 'Rate-limit decisions taken by the local fallback limiter because the shared backend (redis, or the cluster primary) failed, by policy and backend',
      labelNames: ['policy', 'backend'],
      registers,
    });
    const metrics = this;
    this.inflight = new Gauge({
      name: 'portcullis_inflight_requests',
      help: 'Requests in flight (received, response not finished)',
      registers,
      // Read at scrape time from the gateway's own count: nothing to update per request.
      collect() {
        if (metrics.inflightSource !== undefined) this.set(metrics.inflightSource());
      },
    });
    this.targetHealth = new Gauge({
      name: 'portcullis_upstream_target_healthy',
      help: '1 when an upstream target is considered healthy, 0 otherwise',
      labelNames: ['upstream', 'target'],
      // Across cluster workers: healthy only if every worker sees it healthy.
      aggregator: 'min',
      registers,
    });
    this.configReloads = new Counter({
      name: 'portcullis_config_reloads_total',
      help: 'Config reloads, by result (applied or rejected)',
      labelNames: ['result'],
      registers,
    });
    this.tlsHandshakeErrors = new Counter({
      name: 'portcullis_tls_handshake_errors_total',
      help: 'TLS handshakes refused (old protocol, no shared cipher, bad record), by listener',
      labelNames: ['listener'],
      registers,
    });
    this.circuitState = new Gauge({
      name: 'portcullis_upstream_circuit_state',
      help: 'Circuit breaker state of an upstream target: 0 closed, 1 half-open, 2 open',
      labelNames: ['upstream', 'target'],
      // Across cluster workers: the worst state any worker sees.
      aggregator: 'max',
      registers,
    });
    this.circuitTransitions = new Counter({
      name: 'portcullis_upstream_circuit_transitions_total',
      help: 'Circuit breaker state changes of upstream targets, by upstream, target, from and to state',
      labelNames: ['upstream', 'target', 'from', 'to'],
      registers,
    });
    this.connectionsRefused = new Counter({
      name: 'portcullis_connections_refused_total',
      help: 'Client connections closed on accept, by listener and reason (per_ip_limit)',
      labelNames: ['listener', 'reason'],
      registers,
    });
    this.requestsShed = new Counter({
      name: 'portcullis_requests_shed_total',
      help: 'Requests answered 503 GW_OVERLOADED because the event loop lagged past server.loadShedding.maxEventLoopDelay',
      registers,
    });
    this.loadShedding = new Gauge({
      name: 'portcullis_load_shedding_active',
      help: '1 while the gateway sheds new requests because its event loop lags, 0 otherwise',
      aggregator: 'max',
      registers,
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
  }

  /** Applies the `metrics` config section; called at start and on every reload. */
  configure(config: MetricsConfig): void {
    this.consumers.resize(config.maxConsumerLabels);
  }

  /** Where `portcullis_inflight_requests` reads its value at scrape time. */
  countInflight(source: () => number): void {
    this.inflightSource = source;
  }

  /** One answered request; `consumer` (id or subject) when an authenticator identified the caller. */
  request(route: string, method: string, status: number, seconds: number, consumer?: string): void {
    const key = route + '\u0000' + method + '\u0000' + status;
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      const statusLabel = String(status);
      child = {
        count: this.requests.labels(route, method, statusLabel),
        duration: this.duration.labels(route, statusLabel),
      };
      this.requestChildren.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
    if (consumer !== undefined) this.consumers.count(consumer, route, status);
  }

  upstream(upstream: string, seconds: number): void {
    let child = this.upstreamChildren.get(upstream);
    if (child === undefined) {
      child = this.upstreamDuration.labels(upstream);
      this.upstreamChildren.set(upstream, child);
    }
    child.observe(seconds);
  }

  upstreamError(upstream: string, code: string): void {
    this.upstreamErrors.labels(upstream, code).inc();
  }

  policyDecision(route: string, policy: string, decision: 'deny' | 'monitor'): void {
    this.decisions.labels(route, policy, decision).inc();
  }

  rateLimitFallback(policy: string, backend: string): void {
    this.limitFallbacks.labels(policy, backend).inc();
  }

  policyFault(policy: string): void {
    this.faults.labels(policy).inc();
  }
}

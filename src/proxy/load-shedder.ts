import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { LoadSheddingConfig } from '../config/schema.js';
import { parseDuration } from '../config/units.js';
import { GatewayError } from '../errors/index.js';
import type { GatewayMetrics } from '../observability/metrics.js';

/** Where the shedder reads event-loop delay from; tests inject a fake to drive it deterministically. */
export interface LagSource {
  /** Event-loop delay in milliseconds since the previous call. */
  sample(): number;
  close(): void;
}

/**
 * The process's real event-loop delay: the p99 of perf_hooks' histogram since the last sample (it
 * catches stalls between samples), or the lateness of this very sample (it catches the stall that
 * just ended before the histogram's own timer has recorded it).
 */
export class EventLoopLag implements LagSource {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private last = performance.now();

  constructor(private readonly intervalMs: number) {
    this.histogram.enable();
  }

  sample(): number {
    const now = performance.now();
    const late = now - this.last - this.intervalMs;
    this.last = now;
    const p99 = this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
    this.histogram.reset();
    return Math.max(p99, late);
  }

  close(): void {
    this.histogram.disable();
  }
}

/**
 * `server.loadShedding`: when the event loop lags, every request already costs more than it should,
 * and taking more makes all of them slow (latency collapse). Refusing new requests cheaply, before
 * routing and policies, lets the ones in flight finish. One per process, kept across reloads;
 * `shedding` is a field read per request, sampled on a timer, never computed on the request path.
 */
export class LoadShedder {
  shedding = false;
  private source: LagSource | undefined;
  private timer: NodeJS.Timeout | undefined;
  private maxLagMs = 0;
  private holdMs = 0;
  private intervalMs = 0;
  private shedUntil = 0;
  /** One instance for every shed request: shedding must stay cheap. */
  private refusal = new GatewayError('GW_OVERLOADED');

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly now: () => number,
    /** A fixed source (tests); by default the real event loop, created when shedding is enabled. */
    private readonly injected?: LagSource,
  ) {}

  /** Applies a snapshot's settings (at start and on every reload). */
  configure(config: LoadSheddingConfig): void {
    this.maxLagMs = parseDuration(config.maxEventLoopDelay);
    this.holdMs = parseDuration(config.holdFor);
    const intervalMs = Math.max(10, parseDuration(config.sampleInterval));
    this.refusal = new GatewayError('GW_OVERLOADED', {
      reason: `event loop delay over ${this.maxLagMs} ms`,
      headers: { 'retry-after': String(config.retryAfter) },
    });
    if (!config.enabled) return this.stop();
    if (this.timer !== undefined && intervalMs === this.intervalMs) return;
    this.stop();
    this.intervalMs = intervalMs;
    this.source = this.injected ?? new EventLoopLag(intervalMs);
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Reads the lag once and updates `shedding`. Called by the timer; tests call it directly. */
  sample(): void {
    if (this.source === undefined) return;
    const lagMs = this.source.sample();
    const now = this.now();
    if (lagMs > this.maxLagMs) {
      this.shedUntil = now + this.holdMs;
      if (!this.shedding) this.change(true, lagMs);
    } else if (this.shedding && now >= this.shedUntil) {
      this.change(false, lagMs);
    }
  }

  /** Counts one shed request and returns the 503 to send. */
  reject(): GatewayError {
    this.metrics.requestsShed.inc();
    return this.refusal;
  }

  close(): void {
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.source !== this.injected) this.source?.close();
    this.source = undefined;
    if (this.shedding) this.change(false, 0);
  }

  private change(shedding: boolean, lagMs: number): void {
    this.shedding = shedding;
    this.metrics.loadShedding.set(shedding ? 1 : 0);
    const fields = { event_loop_delay_ms: Math.round(lagMs), max_event_loop_delay_ms: this.maxLagMs };
    if (shedding) this.logger.warn(fields, 'load shedding started: event loop lagging');
    else this.logger.info(fields, 'load shedding stopped');
  }
}

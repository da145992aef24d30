import { BlockList } from 'node:net';
import type { Logger } from 'pino';
import { WebhookSender } from '../../alerts/webhook.js';
import { BanList } from '../../anomaly/bans.js';
import { BurstDetector, EnumerationDetector, RateDetector, type Detector, type Finding } from '../../anomaly/detectors.js';
import { addCidr } from '../../config/semantics.js';
import { parseDuration } from '../../config/units.js';
import type { PolicyDeps } from '../../core/policy.js';
import type { RequestContext } from '../../core/context.js';
import { normaliseClientIp } from '../ip-restriction/policy.js';
import type { AnomalyDetectionConfig } from './schema.js';

export type Action = 'alert' | 'throttle' | 'ban';

export interface EngineFinding {
  readonly subject: string;
  readonly finding: Finding;
  readonly action: Action;
}

/**
 * The detectors, the shared ban list and the throttles of one config. A globally attached policy
 * is created once per route: every instance with the same config and StateStore shares one engine,
 * so an IP's 401s on different routes add up.
 */
export class AnomalyEngine {
  readonly detectors: { detector: Detector; action: Action }[] = [];
  readonly bans: BanList;
  readonly webhooks: WebhookSender;
  readonly subjects: ReadonlySet<string>;
  private readonly allow: BlockList | undefined;
  private readonly throttles = new Map<string, { until: number; second: number; used: number }>();
  private started: Promise<void> | undefined;
  users = 0;

  constructor(
    readonly config: AnomalyDetectionConfig,
    private readonly deps: Pick<PolicyDeps, 'state' | 'now' | 'logger'>,
  ) {
    const c = config;
    if (c.authFailures.enabled) this.add(new BurstDetector('auth-failures', (s, code) => s === 401 || s === 403 || code === 'GW_AUTHN_LOCKED', c.authFailures.threshold, parseDuration(c.authFailures.window), '401/403/lockout'), c.authFailures.action);
    if (c.notFound.enabled) this.add(new BurstDetector('not-found', (s) => s === 404, c.notFound.threshold, parseDuration(c.notFound.window), '404'), c.notFound.action);
    if (c.enumeration.enabled) this.add(new EnumerationDetector(c.enumeration.threshold, parseDuration(c.enumeration.window), c.enumeration.maxStep), c.enumeration.action);
    if (c.rate.enabled) {
      const r = c.rate;
      this.add(new RateDetector(parseDuration(r.interval), r.alpha, r.deviations, r.factor, r.minRequests, r.warmup), r.action);
    }
    this.subjects = new Set(c.subjects);
    if (c.allowList.length > 0) {
      this.allow = new BlockList();
      c.allowList.forEach((cidr, i) => {
        try {
          addCidr(this.allow!, cidr);
        } catch (error) {
          throw new Error(`anomaly-detection: allowList[${i}]: ${(error as Error).message}`);
        }
      });
    }
    const w = c.webhooks;
    this.webhooks = new WebhookSender(
      w.targets,
      { timeoutMs: parseDuration(w.timeout), maxAttempts: w.maxAttempts, backoffMs: parseDuration(w.backoff), dedupeWindowMs: parseDuration(w.dedupeWindow) },
      { logger: deps.logger, now: deps.now },
    );
    const ban = c.ban;
    this.bans = new BanList(deps.state, { initialMs: parseDuration(ban.initial), multiplier: ban.multiplier, maxMs: parseDuration(ban.max), memoryMs: parseDuration(ban.memory) }, deps.now, deps.logger);
  }

  private add(detector: Detector, action: Action): void {
    this.detectors.push({ detector, action });
  }

  /** Subscribes to ban broadcasts on first use (never in create: `validate` runs offline). */
  ensureStarted(logger: Logger): void {
    this.started ??= this.bans.start(parseDuration(this.config.refresh)).catch((err: unknown) => {
      logger.error({ err }, 'anomaly-detection could not load the shared ban list; retrying on the next request');
      this.started = undefined;
    });
  }

  allowListed(ip: string): boolean {
    if (this.allow === undefined || ip === '') return false;
    const address = normaliseClientIp(ip);
    return this.allow.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
  }

  throttle(ip: string, now: number): void {
    this.throttles.set(ip, { until: now + parseDuration(this.config.throttle.duration), second: 0, used: 0 });
  }

  /** Milliseconds to wait when the IP is throttled and has used this second's allowance; 0 otherwise. */
  throttledFor(ip: string, now: number): number {
    const t = this.throttles.get(ip);
    if (t === undefined) return 0;
    if (now >= t.until) {
      this.throttles.delete(ip);
      return 0;
    }
    const second = Math.floor(now / 1000);
    if (second !== t.second) {
      t.second = second;
      t.used = 0;
    }
    if (t.used < this.config.throttle.perSecond) {
      t.used++;
      return 0;
    }
    return 1000 - (now % 1000);
  }

  /** What the detectors found for this subject, or undefined (the usual case, allocation-free but for `o`). */
  observe(subject: string, ctx: Pick<RequestContext, 'status' | 'path' | 'decision'>, route: string, now: number): EngineFinding[] | undefined {
    let out: EngineFinding[] | undefined;
    const o = { status: ctx.status, code: ctx.decision.code, route, path: ctx.path, now };
    for (const { detector, action } of this.detectors) {
      const finding = detector.observe(subject, o);
      if (finding !== undefined) (out ??= []).push({ subject, finding, action });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.bans.close();
  }
}

const engines = new WeakMap<PolicyDeps['state'], Map<string, AnomalyEngine>>();

export function acquireEngine(config: AnomalyDetectionConfig, deps: PolicyDeps): AnomalyEngine {
  let byConfig = engines.get(deps.state);
  if (byConfig === undefined) engines.set(deps.state, (byConfig = new Map()));
  const key = JSON.stringify(config);
  let engine = byConfig.get(key);
  if (engine === undefined) byConfig.set(key, (engine = new AnomalyEngine(config, deps)));
  engine.users++;
  return engine;
}

export async function releaseEngine(engine: AnomalyEngine, deps: PolicyDeps): Promise<void> {
  if (--engine.users > 0) return;
  engines.get(deps.state)?.delete(JSON.stringify(engine.config));
  await engine.close();
}

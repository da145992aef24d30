import type { RequestContext } from '../../core/context.js';
import type { PolicyDeps, PolicyInstance } from '../../core/policy.js';
import { TtlLru } from '../../core/ttl-lru.js';
import { GatewayError } from '../../errors/index.js';
import { limiterFor, localWorkers } from '../../ratelimit/backend.js';
import { MemoryLimiter } from '../../ratelimit/memory.js';
import { QuotaCounter, quotaPeriod } from '../../ratelimit/quota.js';
import type { LimitCheck, LimiterBackend, LimitOutcome } from '../../ratelimit/types.js';
import { compileLimits, type RuleSet } from './compile.js';
import { writeLimitHeaders, type LimitState } from './headers.js';
import type { RateLimitConfig } from './schema.js';

/** One local limiter per gateway for the fallbacks, shared by every route (deps.state is one function per gateway). */
const fallbacks = new WeakMap<object, MemoryLimiter>();

interface RequestLimits extends LimitState {
  checks: LimitCheck[];
}

const FALLBACK_LOG_INTERVAL_MS = 10_000;

/**
 * The rate-limit engine as a policy: `rate-limit` (phase limit, keyed by identity) and `ip-rate-limit`
 * (phase onRequest, before authentication) are both this function with a different `name`.
 */
export function createRateLimitPolicy(config: RateLimitConfig, deps: PolicyDeps, name: string): PolicyInstance {
  const processes = config.instances * localWorkers();
  const compiled = compileLimits(config, name, { ipv6Prefix: config.ipv6Prefix, routeName: deps.routeName }, processes);
  const { base, byConsumer, byPlan } = compiled.sets;
  const quotaConfig = config.quota;
  const quota = quotaConfig === undefined ? undefined : new QuotaCounter(deps.store, parseFlush(quotaConfig.flushInterval), deps.logger);
  const plans = new TtlLru<string | null>(10_000, 60_000);
  const fallbackKey = deps.state as object;
  let backend: LimiterBackend | undefined;
  let fallbackCount = 0;
  let fallbackLoggedAt = -Infinity;

  async function openBackend(): Promise<LimiterBackend> {
    return (backend = limiterFor(await deps.state()));
  }

  function deny(state: RequestLimits, outcome: LimitOutcome): GatewayError {
    let retryMs = 0;
    const violated: string[] = [];
    outcome.results.forEach((r, i) => {
      if (r.allowed) return;
      violated.push(state.set.rules[i]!.name);
      if (r.retryAfterMs > retryMs) retryMs = r.retryAfterMs;
    });
    return new GatewayError('GW_RATE_LIMITED', {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryMs / 1000))) },
      reason: `${name}: ${violated.join(', ')} spent`,
      extensions: { 'violated-policies': violated },
    });
  }

  function afterQuota(state: RequestLimits, left: number): void {
    state.quotaRemaining = Math.max(0, left);
    if (left < 0) {
      throw new GatewayError('GW_QUOTA_EXCEEDED', {
        headers: { 'retry-after': String(state.quotaResetS) },
        reason: `${name}: quota ${quotaConfig!.name} spent`,
        extensions: { 'violated-policies': [quotaConfig!.name] },
      });
    }
  }

  /** Quotas count consumers only: an anonymous request has no one to bill. */
  function takeQuota(ctx: RequestContext, state: RequestLimits): void | Promise<void> {
    const consumerId = ctx.principal?.consumerId;
    if (quota === undefined || state.set.quota === undefined || consumerId === undefined) return;
    const { period, resetS } = quotaPeriod(quotaConfig!.name, quotaConfig!.period, deps.now());
    state.quotaResetS = resetS;
    const left = quota.take(consumerId, period, state.set.quota);
    if (typeof left === 'number') return afterQuota(state, left);
    return left.then((l) => afterQuota(state, l));
  }

  function settle(ctx: RequestContext, state: RequestLimits, outcome: LimitOutcome): void | Promise<void> {
    state.outcome = outcome;
    if (!outcome.allowed) throw deny(state, outcome);
    return takeQuota(ctx, state);
  }

  function decide(ctx: RequestContext, set: RuleSet): void | Promise<void> {
    const state: RequestLimits = { set, outcome: undefined, quotaRemaining: undefined, quotaResetS: 0, quotaName: quotaConfig?.name ?? '', checks: [] };
    ctx.state.set(name, state);
    if (set.rules.length === 0) return takeQuota(ctx, state);
    compiled.fillChecks(ctx, set, state.checks);
    const now = deps.now();
    if (backend === undefined) return openBackend().then((b) => b.decide(state.checks, now)).then((o) => settle(ctx, state, o));
    const outcome = backend.decide(state.checks, now);
    if (outcome instanceof Promise) return outcome.then((o) => settle(ctx, state, o));
    return settle(ctx, state, outcome);
  }

  /** The limits for this caller: a consumer override, else its plan's, else the base ones. */
  function ruleSet(ctx: RequestContext): RuleSet | Promise<RuleSet> {
    const principal = ctx.principal;
    if (principal === undefined || (byConsumer.size === 0 && byPlan.size === 0)) return base;
    const consumerId = principal.consumerId;
    if (consumerId !== undefined) {
      const own = byConsumer.get(consumerId);
      if (own !== undefined) return own;
    }
    if (byPlan.size === 0) return base;
    if (principal.plan !== undefined) return byPlan.get(principal.plan) ?? base;
    if (consumerId === undefined) return base;
    const cached = plans.get(consumerId, deps.now());
    if (cached !== undefined) return (cached === null ? undefined : byPlan.get(cached)) ?? base;
    return lookUpPlan(consumerId);
  }

  /** A Store fault here costs the override, not the limit: the base limits apply and the fault is logged. */
  async function lookUpPlan(consumerId: string): Promise<RuleSet> {
    try {
      const consumer = await (await deps.store()).consumers.get(consumerId);
      const plan = consumer?.plan ?? null;
      plans.set(consumerId, plan, deps.now());
      return (plan === null ? undefined : byPlan.get(plan)) ?? base;
    } catch (error) {
      deps.logger.warn({ err: error, policy: name }, 'rate-limit: plan lookup failed; base limits apply');
      return base;
    }
  }

  function noteFallback(fault: unknown): void {
    fallbackCount++;
    deps.metrics.rateLimitFallback(name, backend?.kind ?? 'unknown');
    const now = deps.now();
    if (now - fallbackLoggedAt < FALLBACK_LOG_INTERVAL_MS) return;
    deps.logger.warn({ err: fault, policy: name, backend: backend?.kind, fallbacks: fallbackCount }, 'rate-limit backend failed; local fallback limiter decides');
    fallbackLoggedAt = now;
    fallbackCount = 0;
  }

  return {
    handle(ctx) {
      const set = ruleSet(ctx);
      return set instanceof Promise ? set.then((s) => decide(ctx, s)) : decide(ctx, set);
    },

    /** failureMode open: the shared backend failed, so this process decides with its share of each limit. */
    failOpen(ctx, fault) {
      const state = ctx.state.get(name) as RequestLimits | undefined;
      // Only a failed limit decision falls back; a quota fault (Store down) lets the request through.
      if (state === undefined || state.outcome !== undefined || state.checks.length === 0) return;
      noteFallback(fault);
      let limiter = fallbacks.get(fallbackKey);
      if (limiter === undefined) fallbacks.set(fallbackKey, (limiter = new MemoryLimiter()));
      const checks = state.checks.map((c, i) => ({ key: c.key, rule: state.set.fallback[i]! }));
      const outcome = limiter.decide(checks, deps.now());
      state.outcome = outcome;
      if (!outcome.allowed) throw deny(state, outcome);
      const counted = takeQuota(ctx, state);
      if (counted instanceof Promise) counted.catch(() => undefined);
    },

    onResponse(ctx, head) {
      const state = ctx.state.get(name) as RequestLimits | undefined;
      if (state !== undefined) writeLimitHeaders(head, state, config.headers.standard, config.headers.legacy);
    },

    close() {
      return quota?.close();
    },
  };
}

function parseFlush(value: string): number {
  return Number(value.slice(0, -1)) * (value.endsWith('m') ? 60_000 : 1000);
}

import { describe, expect, it } from 'vitest';
import { parseList } from 'structured-headers';
import { HeaderList } from '../../core/header-list.js';
import { Pipeline } from '../../core/pipeline.js';
import type { PolicyDeps, PolicyInstance } from '../../core/policy.js';
import type { RequestContext } from '../../core/context.js';
import { GatewayError } from '../../errors/index.js';
import { silentLogger } from '../../observability/logger.js';
import { GatewayMetrics } from '../../observability/metrics.js';
import { MemoryStateStore } from '../../state/memory.js';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { compilePolicy, policyStatus, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { ipRateLimitPolicy } from '../ip-rate-limit/index.js';
import { rateLimitPolicy } from './index.js';

function setup(config: object, overrides: Partial<PolicyDeps> = {}) {
  let time = 1_700_000_000_000;
  const state = new MemoryStateStore();
  const deps = makeDeps({ now: () => time, state: async () => state, ...overrides });
  const instance = compilePolicy(rateLimitPolicy, config, deps);
  return { instance, deps, advance: (ms: number) => (time += ms) };
}

const status = (instance: PolicyInstance, ctx: RequestContext = makeContext()): Promise<number> => policyStatus(instance, ctx);

async function statuses(instance: PolicyInstance, n: number, make: () => RequestContext = () => makeContext()): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await status(instance, make()));
  return out;
}

const perSecond = { name: 'per-second', limit: 3, window: '1s', key: ['ip'] };

describe('rate-limit config', () => {
  it('defaults the key to route and consumer, the algorithm to gcra, and standard headers on', () => {
    const config = validatePolicyConfig(rateLimitPolicy, { limits: [{ name: 'a', limit: 1, window: '1s' }] });
    expect(config).toMatchObject({ limits: [{ algorithm: 'gcra', key: ['route', 'consumer'] }], headers: { standard: true, legacy: false }, ipv6Prefix: 64 });
  });

  it('refuses a limit name used twice, a burst on a sliding window, and an override of an unknown limit', () => {
    expect(() => compilePolicy(rateLimitPolicy, { limits: [perSecond, perSecond] })).toThrow(/limits\[1\]\.name: "per-second" is used twice/);
    expect(() => compilePolicy(rateLimitPolicy, { limits: [{ ...perSecond, algorithm: 'sliding-window', burst: 5 }] })).toThrow(/only the gcra algorithm has a burst/);
    expect(() => compilePolicy(rateLimitPolicy, { limits: [perSecond], overrides: [{ plan: 'gold', limits: { 'per-hour': 5 } }] })).toThrow(
      /overrides\[0\]\.limits: no limit is named "per-hour"/,
    );
  });

  it('refuses a policy with neither a limit nor a quota', () => {
    expect(() => compilePolicy(rateLimitPolicy, {})).toThrow(/give at least one limit, or a quota/);
  });

  it('refuses unknown key parts and windows below a second', () => {
    expect(() => validatePolicyConfig(rateLimitPolicy, { limits: [{ ...perSecond, key: ['cookie:x'] }] })).toThrow(/key/);
    expect(() => validatePolicyConfig(rateLimitPolicy, { limits: [{ ...perSecond, window: '500ms' }] })).toThrow(/window/);
  });
});

describe('rate-limit decisions (memory, fake clock)', () => {
  it('returns 429 GW_RATE_LIMITED with Retry-After and violated-policies once the limit is spent', async () => {
    const { instance } = setup({ limits: [perSecond] });
    expect(await statuses(instance, 3)).toEqual([200, 200, 200]);
    const error = await Promise.resolve()
      .then(() => instance.handle!(makeContext()))
      .then(
      () => undefined,
      (e: unknown) => e as GatewayError,
    );
    expect(error?.code).toBe('GW_RATE_LIMITED');
    expect(error?.status).toBe(429);
    expect(error?.headers?.['retry-after']).toBe('1');
    expect(error?.extensions).toEqual({ 'violated-policies': ['per-second'] });
  });

  it('admits again after the emission interval on the controlled clock', async () => {
    const { instance, advance } = setup({ limits: [perSecond] });
    await statuses(instance, 3);
    expect(await status(instance)).toBe(429);
    advance(334);
    expect(await status(instance)).toBe(200);
    expect(await status(instance)).toBe(429);
  });

  it('applies several limits per route: the hourly one holds after the per-second one refills', async () => {
    const { instance, advance } = setup({ limits: [{ ...perSecond, limit: 10 }, { name: 'per-hour', limit: 15, window: '1h', key: ['ip'] }] });
    expect((await statuses(instance, 10)).every((s) => s === 200)).toBe(true);
    advance(1000);
    expect(await statuses(instance, 6)).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('counts clients apart by IP, and IPv6 clients by /64 so rotating addresses in one prefix does not evade the limit', async () => {
    const { instance } = setup({ limits: [perSecond] });
    expect(await statuses(instance, 3, () => makeContext({ clientIp: '2001:db8:1:1::1' }))).toEqual([200, 200, 200]);
    // The attack: a new address from the same /64 for every request.
    expect(await status(instance, makeContext({ clientIp: '2001:db8:1:1:ffff::7' }))).toBe(429);
    expect(await status(instance, makeContext({ clientIp: '2001:0db8:0001:0001:abcd:0:0:9' }))).toBe(429);
    expect(await status(instance, makeContext({ clientIp: '2001:db8:1:2::1' }))).toBe(200);
    expect(await status(instance, makeContext({ clientIp: '192.0.2.1' }))).toBe(200);
  });

  it('does not let crafted header values of a combined key collide with another client', async () => {
    const { instance } = setup({ limits: [{ ...perSecond, limit: 1, key: ['header:x-a', 'header:x-b'] }] });
    expect(await status(instance, makeContext({ headers: { 'x-a': 'p|q', 'x-b': 'r' } }))).toBe(200);
    // Same characters split differently: a different client, not the same bucket.
    expect(await status(instance, makeContext({ headers: { 'x-a': 'p', 'x-b': 'q|r' } }))).toBe(200);
    expect(await status(instance, makeContext({ headers: { 'x-a': 'p|q', 'x-b': 'r' } }))).toBe(429);
  });

  it('keys by consumer, with anonymous callers counted by their IP rather than sharing one bucket', async () => {
    const { instance } = setup({ limits: [{ ...perSecond, limit: 1, key: ['consumer'] }] });
    const as = (consumerId: string | undefined, clientIp = '198.51.100.1') => {
      const ctx = makeContext({ clientIp });
      if (consumerId !== undefined) ctx.principal = { method: 'api-key', consumerId };
      return ctx;
    };
    expect(await status(instance, as('cons_a'))).toBe(200);
    expect(await status(instance, as('cons_a', '198.51.100.2'))).toBe(429);
    expect(await status(instance, as('cons_b'))).toBe(200);
    expect(await status(instance, as(undefined, '203.0.113.1'))).toBe(200);
    expect(await status(instance, as(undefined, '203.0.113.2'))).toBe(200);
    expect(await status(instance, as(undefined, '203.0.113.1'))).toBe(429);
  });

  it('gives a consumer override and a plan override their own limits', async () => {
    const { instance } = setup({
      limits: [{ ...perSecond, limit: 1, key: ['consumer'] }],
      overrides: [
        { consumer: 'cons_vip', limits: { 'per-second': 3 } },
        { plan: 'gold', limits: { 'per-second': 2 } },
      ],
    });
    const as = (consumerId: string, plan?: string) => () => {
      const ctx = makeContext();
      ctx.principal = plan === undefined ? { method: 'jwt', consumerId } : { method: 'jwt', consumerId, plan };
      return ctx;
    };
    expect(await statuses(instance, 4, as('cons_vip'))).toEqual([200, 200, 200, 429]);
    expect(await statuses(instance, 3, as('cons_gold', 'gold'))).toEqual([200, 200, 429]);
    expect(await statuses(instance, 2, as('cons_plain', 'free'))).toEqual([200, 429]);
  });
});

describe('rate-limit headers', () => {
  function headersAfter(instance: PolicyInstance, ctx: RequestContext): HeaderList {
    const head = new HeaderList();
    instance.onResponse!(ctx, head, 200);
    return head;
  }

  it('sends RateLimit-Policy and RateLimit as structured-field lists (draft-ietf-httpapi-ratelimit-headers-11)', async () => {
    const { instance } = setup({ limits: [perSecond, { name: 'per-hour', limit: 100, window: '1h', key: ['ip'] }] });
    const ctx = makeContext();
    await instance.handle!(ctx);
    const head = headersAfter(instance, ctx);
    const policy = parseList(head.get('ratelimit-policy')!);
    expect(policy.map(([name, params]) => [name, Object.fromEntries(params)])).toEqual([
      ['per-second', { q: 3, w: 1 }],
      ['per-hour', { q: 100, w: 3600 }],
    ]);
    const limits = parseList(head.get('ratelimit')!);
    expect(limits.map(([name, params]) => [name, params.get('r'), params.get('t')])).toEqual([
      ['per-second', 2, 1],
      ['per-hour', 99, 36],
    ]);
    expect(head.get('x-ratelimit-limit')).toBeUndefined();
  });

  it('sends the legacy X-RateLimit trio for the tightest limit when asked', async () => {
    const { instance } = setup({ limits: [{ ...perSecond, limit: 10 }, { name: 'per-minute', limit: 2, window: '1m', key: ['ip'] }], headers: { legacy: true } });
    const ctx = makeContext();
    await instance.handle!(ctx);
    const head = headersAfter(instance, ctx);
    expect([head.get('x-ratelimit-limit'), head.get('x-ratelimit-remaining'), head.get('x-ratelimit-reset')]).toEqual(['2', '1', '30']);
  });

  it('still describes the limits on the 429 it causes, with r=0 and t within Retry-After', async () => {
    const { instance } = setup({ limits: [{ ...perSecond, limit: 1 }] });
    await instance.handle!(makeContext());
    const ctx = makeContext();
    await expect(Promise.resolve().then(() => instance.handle!(ctx))).rejects.toMatchObject({ code: 'GW_RATE_LIMITED' });
    const [[, params]] = parseList(headersAfter(instance, ctx).get('ratelimit')!) as [[unknown, Map<string, unknown>]];
    expect(params.get('r')).toBe(0);
    // The effective window ends no later than Retry-After (draft section 6).
    expect(params.get('t')).toBeLessThanOrEqual(1);
  });
});

describe('rate-limit through the pipeline', () => {
  const pipeline = (instance: PolicyInstance, mode: 'enforce' | 'monitor', failureMode: 'open' | 'closed', metrics = new GatewayMetrics({ defaultMetrics: false })) =>
    new Pipeline([{ name: 'rate-limit', phase: 'limit', mode, failureMode, instance }], silentLogger(), metrics);

  it('records a would-be denial in monitor mode and lets the request through', async () => {
    const { instance } = setup({ limits: [{ ...perSecond, limit: 1 }] });
    const p = pipeline(instance, 'monitor', 'open');
    await p.runRequest(makeContext());
    const ctx = makeContext();
    await p.runRequest(ctx);
    expect(ctx.monitorHits).toEqual([{ policy: 'rate-limit', code: 'GW_RATE_LIMITED', reason: 'rate-limit: per-second spent' }]);
  });

  it('falls back to a local limiter with its share when the backend fails and failureMode is open, counting the fallback', async () => {
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const broken = async () => {
      throw Object.assign(new Error('state backend down'), { code: 'STATE_UNAVAILABLE' });
    };
    const { instance } = setup({ limits: [{ ...perSecond, limit: 4 }], instances: 2 }, { state: broken, metrics });
    const p = pipeline(instance, 'enforce', 'open', metrics);
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        await p.runRequest(makeContext());
        outcomes.push('ok');
      } catch (error) {
        outcomes.push((error as GatewayError).code);
      }
    }
    // 4 shared by 2 instances: 2 each while the backend is away.
    expect(outcomes).toEqual(['ok', 'ok', 'GW_RATE_LIMITED']);
    expect(await metrics.registry.getSingleMetricAsString('portcullis_rate_limit_fallbacks_total')).toMatch(/policy="rate-limit".* 3/);
  });

  it('answers 503 GW_POLICY_UNAVAILABLE when the backend fails and failureMode is closed', async () => {
    const broken = async () => {
      throw new Error('state backend down');
    };
    const { instance } = setup({ limits: [perSecond] }, { state: broken });
    await expect(pipeline(instance, 'enforce', 'closed').runRequest(makeContext())).rejects.toMatchObject({ code: 'GW_POLICY_UNAVAILABLE', status: 503 });
  });
});

describe('ip-rate-limit', () => {
  it('limits per client IP in the first phase, whatever the route, before any identity exists', async () => {
    let time = 0;
    const state = new MemoryStateStore();
    const config = { limits: [{ name: 'ip', limit: 2, window: '1m' }] };
    const routeA = compilePolicy(ipRateLimitPolicy, config, makeDeps({ now: () => time, state: async () => state, routeName: 'a' }));
    const routeB = compilePolicy(ipRateLimitPolicy, config, makeDeps({ now: () => time, state: async () => state, routeName: 'b' }));
    expect(ipRateLimitPolicy.phase).toBe('onRequest');
    expect(await status(routeA)).toBe(200);
    expect(await status(routeB)).toBe(200);
    // The counter is shared across routes: a stuffing client cannot spread its attempts over them.
    expect(await status(routeA)).toBe(429);
    expect(await status(routeB)).toBe(429);
    expect(await status(routeA, makeContext({ clientIp: '10.0.0.9' }))).toBe(200);
    time += 60_000;
    expect(await status(routeB)).toBe(200);
  });
});

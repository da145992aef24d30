import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/core/pipeline.js';
import type { PolicyInstance } from '../../src/core/policy.js';
import { GatewayError } from '../../src/errors/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { rateLimitPolicy } from '../../src/policies/rate-limit/index.js';
import { MemoryLimiter } from '../../src/ratelimit/memory.js';
import { RedisLimiter } from '../../src/ratelimit/redis.js';
import type { LimitCheck, LimitRule } from '../../src/ratelimit/types.js';
import { RedisStateStore } from '../../src/state/redis.js';
import { makeContext, makeDeps } from '../helpers/context.js';
import { compilePolicy } from '../helpers/policy.js';
import { OwnRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/child-gateway.js';

const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = () => `portcullis-test:rl:${randomBytes(6).toString('hex')}:`;
const stores: RedisStateStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

async function redisState(url = REDIS_URL, keyPrefix = prefix()): Promise<RedisStateStore> {
  const store = new RedisStateStore({ url, keyPrefix, commandTimeoutMs: 500 });
  stores.push(store);
  await store.ready();
  return store;
}

describe('RedisLimiter against the real Redis', () => {
  it('decides exactly as the memory limiter on the same sequences (GCRA and sliding window, several limits)', async () => {
    const redis = new RedisLimiter(await redisState());
    const memory = new MemoryLimiter();
    const rules: LimitRule[] = [
      { name: 'g', algorithm: 'gcra', limit: 7, windowMs: 1000, burst: 3 },
      { name: 's', algorithm: 'sliding-window', limit: 12, windowMs: 5000, burst: 12 },
    ];
    let now = 1_700_000_000_000;
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 300; i++) {
      now += Math.floor(random() * 400);
      const who = random() < 0.5 ? 'a' : 'b';
      const checks: LimitCheck[] = rules.map((rule) => ({ key: `rl:{${who}}:${rule.name}`, rule }));
      expect(await redis.decide(checks, now), `request ${i} at +${now - 1_700_000_000_000} ms`).toEqual(memory.decide(checks, now));
    }
  });

  it('never lets concurrent decisions from several connections take the same last request (atomic script)', async () => {
    const shared = prefix();
    // Three connections with one prefix: three gateways sharing one Redis.
    const limiters = await Promise.all([1, 2, 3].map(async () => new RedisLimiter(await redisState(REDIS_URL, shared))));
    const rule: LimitRule = { name: 'x', algorithm: 'sliding-window', limit: 50, windowMs: 60_000, burst: 50 };
    const checks = [{ key: 'rl:{hot}:x', rule }];
    const now = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => limiters[i % 3]!.decide(checks, now)));
    expect(outcomes.filter((o) => o.allowed)).toHaveLength(50);
  });
});

describe('one round trip per decision', () => {
  const own = new OwnRedis();
  beforeAll(() => own.start());
  afterAll(() => own.stop());

  it('sends one EVALSHA per request for several limits with the same key, and the script body only once', async () => {
    let time = 1_700_000_000_000;
    const state = await redisState(own.url);
    const deps = makeDeps({ now: () => time, state: async () => state });
    const instance = compilePolicy(
      rateLimitPolicy,
      { limits: [{ name: 'per-second', limit: 100, window: '1s', key: ['ip'] }, { name: 'per-hour', limit: 1000, window: '1h', key: ['ip'] }] },
      deps,
    );
    const before = { evalsha: await own.calls('evalsha'), get: await own.calls('get'), set: await own.calls('set') };
    for (let i = 0; i < 20; i++) {
      await instance.handle!(makeContext());
      time += 5;
    }
    // The first EVALSHA meets NOSCRIPT (a failed call, not counted in calls) and ioredis sends the body
    // once with EVAL; every later decision is one EVALSHA. Reads and writes happen inside the script.
    expect(await own.calls('eval')).toBe(1);
    expect((await own.calls('evalsha')) - before.evalsha).toBe(19);
    // The GETs and SETs Redis counts ran inside those scripts: two limits, read and written per decision.
    expect([(await own.calls('get')) - before.get, (await own.calls('set')) - before.set]).toEqual([40, 40]);
  });
});

describe('Redis stopped and restarted in the middle of a test', () => {
  const own = new OwnRedis();
  beforeAll(() => own.start());
  afterAll(() => own.stop());

  async function attempt(pipeline: Pipeline): Promise<string> {
    try {
      await pipeline.runRequest(makeContext());
      return 'ok';
    } catch (error) {
      return (error as GatewayError).code;
    }
  }

  function setup(failureMode: 'open' | 'closed', state: RedisStateStore, instances = 1) {
    let time = 1_700_000_000_000;
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const deps = makeDeps({ now: () => time, state: async () => state, metrics });
    const instance: PolicyInstance = compilePolicy(
      rateLimitPolicy,
      { limits: [{ name: 'per-minute', limit: 6, window: '1m', algorithm: 'sliding-window', key: ['ip'] }], instances },
      deps,
    );
    const pipeline = new Pipeline([{ name: 'rate-limit', phase: 'limit', mode: 'enforce', failureMode, instance }], silentLogger(), metrics);
    const fallbacks = async () => Number(/ (\d+)$/m.exec((await metrics.registry.getSingleMetricAsString('portcullis_rate_limit_fallbacks_total')).trim())?.[1] ?? 0);
    return { pipeline, fallbacks, advance: (ms: number) => (time += ms) };
  }

  it('failureMode open: falls back to a local limiter with its share, counts it, and returns to Redis once it is back', async () => {
    const state = await redisState(own.url);
    const { pipeline, fallbacks } = setup('open', state, 3);
    expect([await attempt(pipeline), await attempt(pipeline)]).toEqual(['ok', 'ok']);
    expect(await fallbacks()).toBe(0);

    await own.stop();
    const during: string[] = [];
    for (let i = 0; i < 4; i++) during.push(await attempt(pipeline));
    // 6 per minute shared by 3 instances: this one admits 2 on its own, then refuses.
    expect(during).toEqual(['ok', 'ok', 'GW_RATE_LIMITED', 'GW_RATE_LIMITED']);
    expect(await fallbacks()).toBe(4);

    await own.start();
    await waitFor(() => state.ready(100), 10_000, 'the store to reconnect by itself');
    // Redis restarted empty (no persistence): its count starts again, and decisions are Redis's.
    expect(await attempt(pipeline)).toBe('ok');
    expect(await fallbacks()).toBe(4);
  });

  it('failureMode closed: answers 503 GW_POLICY_UNAVAILABLE while Redis is down, and limits again once it is back', async () => {
    const state = await redisState(own.url);
    const { pipeline } = setup('closed', state);
    expect(await attempt(pipeline)).toBe('ok');
    await own.stop();
    expect([await attempt(pipeline), await attempt(pipeline)]).toEqual(['GW_POLICY_UNAVAILABLE', 'GW_POLICY_UNAVAILABLE']);
    await own.start();
    await waitFor(() => state.ready(100), 10_000, 'the store to reconnect by itself');
    const after: string[] = [];
    for (let i = 0; i < 7; i++) after.push(await attempt(pipeline));
    expect(after.filter((a) => a === 'ok')).toHaveLength(6);
    expect(after.at(-1)).toBe('GW_RATE_LIMITED');
  });
});

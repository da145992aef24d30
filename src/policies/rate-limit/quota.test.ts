import { afterEach, describe, expect, it } from 'vitest';
import { parseList } from 'structured-headers';
import { HeaderList } from '../../core/header-list.js';
import type { PolicyInstance } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import { quotaPeriod } from '../../ratelimit/quota.js';
import { MemoryStateStore } from '../../state/memory.js';
import { SqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/types.js';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { compilePolicy } from '../../../test/helpers/policy.js';
import { rateLimitPolicy } from './index.js';

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** A real SQLite store whose usage.add calls are counted. */
function countingStore() {
  const store = SqliteStore.open({ path: ':memory:' });
  stores.push(store);
  const writes = { calls: 0 };
  const add = store.usage.add.bind(store.usage);
  (store.usage as { add: typeof add }).add = (increments, at) => {
    writes.calls++;
    return add(increments, at);
  };
  return { store, writes };
}

const clock = { time: Date.UTC(2026, 10, 23, 23, 59, 0) };
function policy(store: Store, config: object = {}): PolicyInstance {
  const state = new MemoryStateStore();
  return compilePolicy(
    rateLimitPolicy,
    { quota: { limit: 3, period: 'day', flushInterval: '60s' }, ...config },
    makeDeps({ now: () => clock.time, store: async () => store, state: async () => state }),
  );
}

async function call(instance: PolicyInstance, consumerId = 'cons_q', plan?: string): Promise<{ status: number; error?: GatewayError; head: HeaderList }> {
  const ctx = makeContext();
  ctx.principal = plan === undefined ? { method: 'api-key', consumerId } : { method: 'api-key', consumerId, plan };
  const head = new HeaderList();
  try {
    await instance.handle!(ctx);
    instance.onResponse!(ctx, head, 200);
    return { status: 200, head };
  } catch (error) {
    instance.onResponse!(ctx, head, 429);
    return { status: (error as GatewayError).status, error: error as GatewayError, head };
  }
}

describe('rate-limit quota', () => {
  it('counts in memory without a Store write per request, and adds the batch on flush', async () => {
    const { store, writes } = countingStore();
    const instance = policy(store, { quota: { limit: 100, period: 'day', flushInterval: '60s' } });
    for (let i = 0; i < 10; i++) expect((await call(instance)).status).toBe(200);
    expect(writes.calls).toBe(0);
    await instance.close!();
    expect(writes.calls).toBe(1);
    expect(await store.usage.get('cons_q', quotaPeriod('quota', 'day', clock.time).period)).toBe(10);
  });

  it('answers 429 GW_QUOTA_EXCEEDED with Retry-After until the end of the UTC day once the quota is used', async () => {
    const { store } = countingStore();
    const instance = policy(store);
    expect((await Promise.all([1, 2, 3].map(() => call(instance)))).map((r) => r.status)).toEqual([200, 200, 200]);
    const refused = await call(instance);
    expect(refused.error?.code).toBe('GW_QUOTA_EXCEEDED');
    expect(refused.error?.headers?.['retry-after']).toBe('60');
    const [[name, params]] = parseList(refused.head.get('ratelimit')!) as [[string, Map<string, unknown>]];
    expect([name, params.get('r'), params.get('t')]).toEqual(['quota', 0, 60]);
    expect(refused.head.get('ratelimit-policy')).toBe('"quota";q=3;w=86400');
    // Other consumers have their own quota.
    expect((await call(instance, 'cons_other')).status).toBe(200);
  });

  it('survives a restart: a new gateway reads the flushed total from the Store', async () => {
    const { store } = countingStore();
    const first = policy(store);
    await call(first);
    await call(first);
    await first.close!();
    const second = policy(store);
    expect((await call(second)).status).toBe(200);
    expect((await call(second)).error?.code).toBe('GW_QUOTA_EXCEEDED');
  });

  it('starts a fresh count when the UTC day turns', async () => {
    const { store } = countingStore();
    const instance = policy(store);
    for (let i = 0; i < 3; i++) await call(instance);
    expect((await call(instance)).status).toBe(429);
    clock.time += 60_000;
    expect((await call(instance)).status).toBe(200);
    clock.time -= 60_000;
  });

  it('gives a plan override its own quota and leaves anonymous requests unbilled', async () => {
    const { store } = countingStore();
    const instance = policy(store, { overrides: [{ plan: 'gold', limits: {}, quota: 5 }] });
    const gold = [];
    for (let i = 0; i < 6; i++) gold.push((await call(instance, 'cons_gold', 'gold')).status);
    expect(gold).toEqual([200, 200, 200, 200, 200, 429]);
    const anonymous = makeContext();
    for (let i = 0; i < 5; i++) await instance.handle!(anonymous);
  });

  it('keeps the counts when a flush fails and sends them with the next one', async () => {
    const { store } = countingStore();
    const instance = policy(store, { quota: { limit: 100, period: 'month', flushInterval: '60s' } });
    for (let i = 0; i < 4; i++) await call(instance);
    const add = store.usage.add;
    (store.usage as { add: typeof add }).add = () => Promise.reject(new Error('store down'));
    await instance.close!();
    (store.usage as { add: typeof add }).add = add;
    await instance.close!();
    expect(await store.usage.get('cons_q', quotaPeriod('quota', 'month', clock.time).period)).toBe(4);
  });
});

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../src/state/open.js';
import { RedisStateStore } from '../../src/state/redis.js';
import { waitFor } from '../helpers/child-gateway.js';
import { collect, runStateContract, stateCodeOf } from './contract.js';
import { TcpRelay } from './relay.js';

const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** One prefix per run (and per store below it), so parallel runs on one Redis never see each other's keys. */
const RUN_PREFIX = `portcullis-test:${randomBytes(6).toString('hex')}:`;
let admin: Redis;
let n = 0;

beforeAll(() => {
  admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  // Every key this run made, whatever test made it, is removed.
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${RUN_PREFIX}*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  admin.disconnect();
});

async function freshStore(url = REDIS_URL, extra: { connectionName?: string } = {}): Promise<RedisStateStore> {
  const store = new RedisStateStore({ url, keyPrefix: `${RUN_PREFIX}${++n}:`, ...extra });
  await store.ready();
  return store;
}

runStateContract('redis', async () => ({
  state: await freshStore(),
  wait: (ms) => new Promise((r) => setTimeout(r, ms)),
}));

/** Ids of the connections carrying this CLIENT SETNAME name (ioredis names duplicates the same). */
async function clientIds(name: string): Promise<string[]> {
  const list = (await admin.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)![1]!);
}

describe('RedisStateStore', () => {
  it('keeps keys under its prefix and gives them the TTL asked for', async () => {
    const state = await freshStore();
    await state.set('k', 'v', 5000);
    await state.incr('n', 5000);
    const ttl = await admin.pttl(`${state.keyPrefix}k`);
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    expect(await admin.pttl(`${state.keyPrefix}n`)).toBeGreaterThan(4000);
    expect(await admin.get('k')).toBeNull();
    await state.close();
  });

  it('shares state and messages between two stores on the same prefix (two workers)', async () => {
    const a = await freshStore();
    const b = new RedisStateStore({ url: REDIS_URL, keyPrefix: a.keyPrefix });
    await b.ready();
    await a.set('shared', 'x', 5000);
    expect(await b.get('shared')).toBe('x');
    expect(await a.setIfAbsent('nonce', '1', 5000)).toBe(true);
    expect(await b.setIfAbsent('nonce', '1', 5000)).toBe(false);
    const got = collect(1, 1000);
    await b.subscribe('revoked', got.handler);
    await a.publish('revoked', 'cred_x');
    expect(await got.done).toEqual(['cred_x']);
    await Promise.all([a.close(), b.close()]);
  });

  it('rejects with STATE_UNAVAILABLE when Redis cannot be reached, without crashing or leaking the URL', async () => {
    const relay = new TcpRelay(6379);
    await relay.start();
    const port = relay.port;
    await relay.stop();
    const errors: Error[] = [];
    const state = new RedisStateStore({ url: `redis://:hunter2@127.0.0.1:${port}`, keyPrefix: `${RUN_PREFIX}down:`, onError: (e) => errors.push(e) });
    expect(await state.ready(300)).toBe(false);
    const err = await state.get('k').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STATE_UNAVAILABLE' });
    expect((err as Error).message).not.toContain('hunter2');
    expect(await stateCodeOf(state.incr('k', 1000))).toBe('STATE_UNAVAILABLE');
    expect(await stateCodeOf(state.publish('c', 'm'))).toBe('STATE_UNAVAILABLE');
    await waitFor(() => errors.length > 0, 2000, 'a connection error reported to onError');
    await state.close();
  });

  it('fails while the connection is cut and recovers by itself when it is back', async () => {
    const relay = new TcpRelay(6379);
    await relay.start();
    const state = await freshStore(`redis://127.0.0.1:${relay.port}`);
    await state.set('k', 'before', 30_000);
    await relay.stop();
    await waitFor(async () => (await stateCodeOf(state.get('k')).catch(() => 'ok')) === 'STATE_UNAVAILABLE', 3000, 'STATE_UNAVAILABLE while cut');
    await relay.start(relay.port);
    const value = await waitFor(() => state.get('k').catch(() => null), 5000, 'the store to reconnect');
    expect(value).toBe('before');
    await state.close();
    await relay.stop();
  });

  it('survives CLIENT KILL of both connections: commands and subscriptions come back', async () => {
    const name = `portcullis-test-${randomBytes(4).toString('hex')}`;
    const state = await freshStore(REDIS_URL, { connectionName: name });
    const got: string[] = [];
    await state.subscribe('revoked', (m) => got.push(m));
    await waitFor(async () => (await clientIds(name)).length === 2, 2000, 'command and subscriber connections');
    for (const id of await clientIds(name)) await admin.call('CLIENT', 'KILL', 'ID', id);
    // Recovery: commands work again, and the subscriber resubscribed (publish until it hears).
    await waitFor(() => state.set('k', 'after', 5000).then(() => true, () => false), 5000, 'commands to work again');
    await waitFor(async () => {
      await state.publish('revoked', 'cred_after').catch(() => undefined);
      return got.includes('cred_after');
    }, 5000, 'the subscription to come back', 100);
    await state.close();
  });

  it('openStateStore opens Redis from config, and still opens while Redis is down', async () => {
    const state = await openStateStore({
      state: { backend: 'redis', memory: { maxEntries: 100 }, redis: { url: REDIS_URL, keyPrefix: `${RUN_PREFIX}cfg:` } },
    });
    expect(state.backend).toBe('redis');
    await state.set('k', 'v', 1000);
    expect(await state.get('k')).toBe('v');
    await state.close();
    const relay = new TcpRelay(6379);
    await relay.start();
    await relay.stop();
    const down = await openStateStore({
      state: { backend: 'redis', memory: { maxEntries: 100 }, redis: { url: `redis://127.0.0.1:${relay.port}`, keyPrefix: `${RUN_PREFIX}x:` } },
    });
    expect(await stateCodeOf(down.get('k'))).toBe('STATE_UNAVAILABLE');
    await down.close();
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContext, makeDeps } from '../helpers/context.js';
import { compilePolicy, policyStatus } from '../helpers/policy.js';
import { OwnRedis } from '../helpers/redis-server.js';
import { freePort, waitFor } from '../helpers/child-gateway.js';
import { rateLimitPolicy } from '../../src/policies/rate-limit/index.js';
import { RedisStateStore } from '../../src/state/redis.js';

/**
 * A real three-master Redis Cluster on private ports: a script whose keys sat in different slots
 * would fail with CROSSSLOT, so this proves the hash tags put each decision's keys together.
 */
describe('rate limits on a real Redis Cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcl-redis-cluster-'));
  const nodes = [0, 1, 2].map((i) => new OwnRedis(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${i}.conf`), '--cluster-node-timeout', '2000']));
  let store: RedisStateStore | undefined;

  beforeAll(async () => {
    await Promise.all(nodes.map((n) => n.start()));
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout} ${create.stderr}`);
    const probe = new Redis(nodes[0]!.url);
    await waitFor(async () => /cluster_state:ok/.test((await probe.call('CLUSTER', 'INFO')) as string), 20_000, 'the cluster to be ok');
    probe.disconnect();
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('decides limits keyed by IP and by consumer (different slots) in one request, across many clients', async () => {
    store = new RedisStateStore({ url: nodes[0]!.url, mode: 'cluster', nodes: nodes.slice(1).map((n) => `127.0.0.1:${n.port}`), keyPrefix: 'pcl-test:' });
    expect(await store.ready(10_000)).toBe(true);
    const state = store;
    const instance = compilePolicy(
      rateLimitPolicy,
      {
        limits: [
          { name: 'per-ip', limit: 2, window: '1m', key: ['ip'] },
          { name: 'per-ip-hour', limit: 100, window: '1h', algorithm: 'sliding-window', key: ['ip'] },
          { name: 'per-consumer', limit: 3, window: '1m', key: ['consumer', 'route'] },
        ],
      },
      makeDeps({ state: async () => state }),
    );
    const call = async (clientIp: string, consumerId: string) => {
      const ctx = makeContext({ clientIp });
      ctx.principal = { method: 'api-key', consumerId };
      return policyStatus(instance, ctx);
    };
    // Twenty clients: their keys hash to slots on all three masters.
    for (let i = 0; i < 20; i++) {
      expect([await call(`10.0.0.${i}`, `cons_${i}`), await call(`10.0.0.${i}`, `cons_${i}`), await call(`10.0.0.${i}`, `cons_${i}`)]).toEqual([200, 200, 429]);
    }
    // The consumer limit holds across addresses: its third request (from a new IP) is the last.
    expect(await call('10.1.0.1', 'cons_x')).toBe(200);
    expect(await call('10.1.0.2', 'cons_x')).toBe(200);
    expect(await call('10.1.0.3', 'cons_x')).toBe(200);
    expect(await call('10.1.0.4', 'cons_x')).toBe(429);
  });
});

/** A real master and a real sentinel on private ports: the store finds the master through the sentinel. */
describe('rate limits through Redis Sentinel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcl-redis-sentinel-'));
  const master = new OwnRedis();
  let sentinel: ChildProcess | undefined;
  let sentinelPort = 0;
  let store: RedisStateStore | undefined;

  beforeAll(async () => {
    await master.start();
    sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor pclmaster 127.0.0.1 ${master.port} 1\n`);
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const probe = new Redis({ port: sentinelPort, lazyConnect: true, retryStrategy: () => 200 });
    probe.on('error', () => undefined);
    await waitFor(
      async () => {
        try {
          if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
          return ((await probe.call('SENTINEL', 'get-master-addr-by-name', 'pclmaster')) as string[] | null)?.[1] === String(master.port);
        } catch {
          return false;
        }
      },
      20_000,
      'the sentinel to know the master',
    );
    probe.disconnect();
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    sentinel?.kill('SIGKILL');
    await master.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the master through the sentinel and limits there', async () => {
    store = new RedisStateStore({ url: 'redis://unused:6379', mode: 'sentinel', sentinels: [`127.0.0.1:${sentinelPort}`], sentinelName: 'pclmaster', keyPrefix: 'pcl-test:' });
    expect(await store.ready(10_000)).toBe(true);
    const state = store;
    const instance = compilePolicy(rateLimitPolicy, { limits: [{ name: 'per-ip', limit: 2, window: '1m', key: ['ip'] }] }, makeDeps({ state: async () => state }));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await policyStatus(instance, makeContext()));
    expect(statuses).toEqual([200, 200, 429]);
    // The counters are on the master the sentinel named.
    const direct = new Redis(master.url);
    expect((await direct.keys('pcl-test:rl:*')).length).toBe(1);
    direct.disconnect();
  });
});

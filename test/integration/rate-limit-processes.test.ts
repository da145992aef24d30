import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildGateway, ensureBuilt, freePort, getFresh, killChildren, removeTempDirs, statusOf, tempDir, waitFor } from '../helpers/child-gateway.js';
import { startUpstreamEcho, type EchoUpstream } from '../helpers/servers.js';

const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function yaml(upstreamUrl: string, port: number, state: string, workers = 1): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: ${port} }]
  workers: ${workers}
admin: { enabled: false }
logging: { level: info, accessLog: false }
${state}
upstreams:
  up: { targets: [{ url: "${upstreamUrl}" }], connections: 64 }
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
    policies:
      - name: rate-limit
        config:
          limits: [{ name: per-minute, limit: 100, window: 1m, algorithm: sliding-window, key: [route] }]
`;
}

/**
 * Waits out the last seconds of a wall-clock minute before hammering: a sliding window that crosses
 * a fixed-window edge during the burst lets a few more through by design (the previous window's
 * weight decays), which this test is not about. Setup, not a correctness sleep.
 */
async function awayFromMinuteEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((r) => setTimeout(r, left + 200));
}

let upstream: EchoUpstream;
beforeAll(async () => {
  await ensureBuilt();
  upstream = await startUpstreamEcho();
}, 180_000);
afterAll(async () => {
  await killChildren();
  await upstream?.close();
  removeTempDirs();
});

/** `count` requests, `concurrency` at a time (a flood of thousands of sockets would measure the machine, not the limiter). */
async function hammer(port: number, count: number, fresh: boolean, concurrency = 25): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < count) {
      next++;
      if (fresh) statuses.push((await getFresh(port, '/x')).status);
      else {
        const res = await request(`http://127.0.0.1:${port}/x`);
        await res.body.dump();
        statuses.push(res.statusCode);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, one));
  return statuses;
}

describe('rate-limit accuracy across processes', () => {
  it('admits 100 (within 2%) of a 100-per-minute limit hammered through three gateway processes sharing Redis', async () => {
    const keyPrefix = `portcullis-test:rl3:${randomBytes(6).toString('hex')}:`;
    const state = `state: { backend: redis, redis: { url: "${REDIS_URL}", keyPrefix: "${keyPrefix}", commandTimeout: 10000 } }`;
    const dir = tempDir();
    const ports = await Promise.all([1, 2, 3].map(() => freePort()));
    const gateways = ports.map((port, i) => {
      const file = join(dir, `gw${i}.yaml`);
      writeFileSync(file, yaml(upstream.url, port, state));
      return new ChildGateway(file);
    });
    await Promise.all(ports.map((port, i) => waitFor(async () => (await statusOf(port, '/ready-probe')) !== 0, 90_000, `gateway ${i}\n${gateways[i]!.stderr}`)));
    // The probes above counted: start from a clean slate for the measured burst.
    const admin = new Redis(REDIS_URL);
    const clear = async () => {
      const keys = await admin.keys(`${keyPrefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    };
    await awayFromMinuteEdge();
    await clear();

    const results = await Promise.all(ports.map((port) => hammer(port, 150, false)));
    const admitted = results.flat().filter((s) => s === 200).length;
    const refused = results.flat().filter((s) => s === 429).length;
    await clear();
    admin.disconnect();
    expect(refused + admitted).toBe(450);
    // Every process admitted some: the limit was shared, not taken by the first to start.
    for (const r of results) expect(r.filter((s) => s === 200).length).toBeGreaterThan(0);
    const fallbacks = gateways.flatMap((g) => g.lines.filter((l) => l.msg === 'rate-limit backend failed; local fallback limiter decides'));
    expect({ admitted, fallbacks: fallbacks.map((l) => JSON.stringify(l.err).slice(0, 300)) }).toMatchObject({ fallbacks: [] });
    expect(Math.abs(admitted - 100)).toBeLessThanOrEqual(2);
  }, 240_000);

  it('does not multiply a memory limit by the worker count: workers ask the cluster primary', async () => {
    const port = await freePort();
    const dir = tempDir();
    const file = join(dir, 'gw.yaml');
    writeFileSync(file, yaml(upstream.url, port, '', 2));
    const child = new ChildGateway(file);
    await waitFor(() => child.gatewayPids().length === 2, 90_000, `both workers to listen\n${child.stderr}`);
    await awayFromMinuteEdge();
    // Fresh connections: the primary hands them to both workers in turn.
    const statuses = await hammer(port, 160, true);
    const admitted = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s === 429).length).toBe(160 - admitted);
    // Exact while the primary answers; a worker whose question timed out (a starved machine) decided
    // with its local share, which is logged, and may admit a little more.
    const fallbacks = child.lines.filter((l) => l.msg === 'rate-limit backend failed; local fallback limiter decides').length;
    if (fallbacks === 0) expect(admitted).toBe(100);
    else expect(Math.abs(admitted - 100)).toBeLessThanOrEqual(2);
  }, 240_000);
});

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN, removeTempDirs, tempDir } from '../helpers/child-gateway.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/**
 * Simulated attacks through a real gateway. Clients are told apart by X-Forwarded-For, believed
 * from the test's own address (trustedProxies), so one test process can be many IPs.
 */
const config = (state = '', policyExtra = '') => `version: 1
server: { listeners: [{ host: 127.0.0.1, port: 0 }], trustedProxies: ["127.0.0.1"] }
admin: { enabled: false }
${state}
upstreams:
  up: { targets: [{ url: "{{UPSTREAM}}" }] }
policies:
  - name: anomaly-detection
    config:
      allowList: ["10.99.0.0/16"]
      authFailures: { threshold: 10, window: 1m }
      notFound: { threshold: 20, window: 1m }
      enumeration: { threshold: 20, maxStep: 2 }
      ban: { initial: 1m }
${policyExtra}
routes:
  - name: account
    match: { paths: ["/account/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: api-key, config: { cacheTtl: 0 } }] }
  - name: orders
    match: { paths: ["/orders/{id}"] }
    forward: { upstream: up }
  - name: pages
    match: { paths: ["/pages/*"] }
    forward: { upstream: up }
`;

let upstream: EchoUpstream;
const gateways: TestGateway[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close();
});
afterAll(async () => {
  await upstream?.close();
  removeTempDirs();
});

async function start(state = '', policyExtra = ''): Promise<TestGateway> {
  upstream ??= await startUpstreamEcho();
  const gw = await startGateway(config(state, policyExtra), { upstreamUrl: upstream.url });
  gateways.push(gw);
  return gw;
}

async function send(gw: TestGateway, ip: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string | undefined }> {
  const res = await request(`${gw.url}${path}`, { headers: { 'x-forwarded-for': ip, ...headers } });
  const text = await res.body.text();
  const code = res.headers['content-type']?.toString().includes('problem') ? (JSON.parse(text) as { code: string }).code : undefined;
  return { status: res.statusCode, code };
}

/** Sends until the gateway answers GW_CLIENT_BANNED; returns on which request, or 0 if never. */
async function requestsUntilBanned(gw: TestGateway, ip: string, paths: (i: number) => string, max: number, headers: Record<string, string> = {}): Promise<number> {
  for (let i = 1; i <= max; i++) {
    if ((await send(gw, ip, paths(i), headers)).code === 'GW_CLIENT_BANNED') return i;
  }
  return 0;
}

describe('anomaly detection and bans', () => {
  it('bans credential stuffing on the request after the 10th failure (401, then lockout 429), and only that IP', async () => {
    const gw = await start();
    const n = await requestsUntilBanned(gw, '203.0.113.10', () => '/account/me', 40, { 'x-api-key': `pcl_${randomBytes(8).toString('hex')}` });
    expect(n).toBe(11);
    const banned = await send(gw, '203.0.113.10', '/pages/home');
    expect(banned).toEqual({ status: 403, code: 'GW_CLIENT_BANNED' });
    expect((await send(gw, '203.0.113.11', '/pages/home')).status).toBe(200);
  });

  it('bans path scanning after 20 404s and sequential enumeration after 20 ids in a row', async () => {
    const gw = await start();
    expect(await requestsUntilBanned(gw, '203.0.113.20', (i) => `/.env.${i}`, 60)).toBe(21);
    expect(await requestsUntilBanned(gw, '203.0.113.21', (i) => `/orders/${1000 + i}`, 60)).toBe(21);
  });

  it('sends one signed webhook alert per ban, which the Standard Webhooks library verifies', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const hooks: { headers: Record<string, string>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push({ headers: req.headers as Record<string, string>, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
    const gw = await start('', `      webhooks: { targets: [{ url: "${url}", secret: "${secret}" }] }`);
    expect(await requestsUntilBanned(gw, '203.0.113.40', (i) => `/probe-${i}.php`, 40)).toBe(21);
    await expect.poll(() => hooks.length, { timeout: 3000 }).toBe(1);
    const payload = new Webhook(secret).verify(hooks[0]!.body, hooks[0]!.headers) as { type: string; data: Record<string, unknown> };
    expect(payload).toMatchObject({ type: 'anomaly.ban', data: { subject: 'ip:203.0.113.40', detector: 'not-found', action: 'ban' } });
    receiver.close();
  });

  it('never bans an allow-listed source doing the same', async () => {
    const gw = await start();
    expect(await requestsUntilBanned(gw, '10.99.1.1', () => '/account/me', 40, { 'x-api-key': 'pcl_bad' })).toBe(0);
  });

  it('bans no benign client in the same volume of ordinary traffic (false positives counted)', async () => {
    const gw = await start();
    // 60 clients x 20 requests = 1200, more than the three attacks above together: page views,
    // a few random order ids, the odd 404 and the odd mistyped key.
    let refused = 0;
    for (let c = 0; c < 60; c++) {
      const ip = `198.51.100.${c + 1}`;
      for (let i = 0; i < 20; i++) {
        const path = i % 10 === 3 ? '/nope' : i % 10 === 7 ? '/account/me' : i % 3 === 0 ? `/orders/${(c * 7919 + i * 104729) % 5000}` : `/pages/${i}`;
        const { code } = await send(gw, ip, path, i % 10 === 7 ? { 'x-api-key': 'pcl_typo' } : {});
        if (code === 'GW_CLIENT_BANNED' || code === 'GW_CLIENT_THROTTLED') refused++;
      }
    }
    expect(refused).toBe(0);
  }, 60_000);

  it('shares a ban across two gateways on Redis, and lifting it frees the IP everywhere', async () => {
    const prefix = `pcl-test-${randomBytes(6).toString('hex')}:`;
    const state = `state: { backend: redis, redis: { url: "redis://127.0.0.1:6379", keyPrefix: "${prefix}" } }`;
    const a = await start(state);
    const b = await start(state);
    expect((await send(b, '203.0.113.30', '/pages/x')).status).toBe(200); // b is subscribed
    expect(await requestsUntilBanned(a, '203.0.113.30', (i) => `/scan/${i}`, 40)).toBe(21);
    await expect.poll(async () => (await send(b, '203.0.113.30', '/pages/x')).code, { timeout: 3000 }).toBe('GW_CLIENT_BANNED');
    // The operator's view: `portcullis bans list|lift` against the same Redis.
    await ensureBuilt();
    const file = join(tempDir(), 'gw.yaml');
    writeFileSync(file, config(state).replaceAll('{{UPSTREAM}}', upstream.url));
    const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'bans', ...args, '--config', file], { encoding: 'utf8', timeout: 30_000 });
    const listed = cli('list');
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/^SUBJECT +SINCE +UNTIL +STRIKE +DETECTOR +REASON\nip:203\.0\.113\.30 .* 1 +not-found +20 404 responses/);
    const lifted = cli('lift', '203.0.113.30');
    expect(lifted.stdout).toBe('lifted the ban on ip:203.0.113.30\n');
    expect(cli('lift', '203.0.113.30').status).toBe(1);
    await expect.poll(async () => (await send(a, '203.0.113.30', '/pages/x')).status, { timeout: 3000 }).toBe(200);
    await expect.poll(async () => (await send(b, '203.0.113.30', '/pages/x')).status, { timeout: 3000 }).toBe(200);
  }, 90_000);
});

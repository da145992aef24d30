import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthServerConfigText } from '../../src/auth-server/load.js';
import { startAuthServer, type RunningAuthServer } from '../../src/auth-server/server.js';
import { authRoute } from '../helpers/auth-route.js';
import { startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/**
 * The introspection cache is shared through the StateStore on Redis: two gateway instances on one
 * Redis (one key prefix) introspect a token once between them; a gateway on another prefix does not
 * share, and a shared answer still goes through each route's own scope check.
 */
const REDIS = 'redis://127.0.0.1:6379';
let auth: RunningAuthServer;
let proxy: CountingProxy;
let upstream: EchoUpstream;
const gateways: TestGateway[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  const text = `listen: { port: 0 }
storage: { backend: memory }
clients:
  - { clientId: app, clientSecret: app-secret-1, scopes: [read, write] }
  - { clientId: gateway, clientSecret: gateway-secret-1, introspection: true }
`;
  auth = await startAuthServer(loadAuthServerConfigText(text, '/cfg/auth.yaml').config);
  proxy = await startCountingProxy(() => auth.url);
  upstream = await startUpstreamEcho();
});

afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await upstream?.close();
  await proxy?.close();
  await auth?.close();
  const redis = new Redis(REDIS);
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
});

async function gatewayOn(prefix: string): Promise<TestGateway> {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const method = (extra: string) => `endpoint: "${proxy.url}/token/introspection"\nclientId: gateway\nclientSecret: gateway-secret-1\n${extra}`;
  const gw = await startGateway(`version: 1
server: { listeners: [{ host: 127.0.0.1, port: 0 }] }
admin: { enabled: false }
state: { backend: redis, redis: { url: "${REDIS}", keyPrefix: "${prefix}" } }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
${authRoute('read', 'introspection', method('requiredScopes: [read]'))}${authRoute('write', 'introspection', method('requiredScopes: [write]'))}`);
  gateways.push(gw);
  return gw;
}

async function token(scope: string): Promise<string> {
  const res = await request(`${auth.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('app:app-secret-1').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&scope=${scope}`,
  });
  return ((await res.body.json()) as { access_token: string }).access_token;
}

async function status(gw: TestGateway, path: string, bearer: string): Promise<number> {
  const res = await request(`${gw.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  await res.body.dump();
  return res.statusCode;
}

describe('introspection cache shared through Redis', () => {
  it('lets a second gateway reuse the answer the first one cached, without calling the OAuth server', async () => {
    const prefix = `pcl-test-${randomBytes(6).toString('hex')}:`;
    const [first, second] = [await gatewayOn(prefix), await gatewayOn(prefix)];
    const bearer = await token('read');
    const before = proxy.introspections;
    expect(await status(first, '/read/x', bearer)).toBe(200);
    expect(proxy.introspections).toBe(before + 1);
    expect(await status(second, '/read/x', bearer)).toBe(200);
    expect(await status(second, '/read/y', bearer)).toBe(200);
    expect(proxy.introspections).toBe(before + 1);
    // The answer is shared, the decision is not: the write route refuses a read-only token from the cache.
    expect(await status(second, '/write/x', bearer)).toBe(401);
    expect(proxy.introspections).toBe(before + 1);
    // Only a hash of the token is a key in Redis; the token itself appears nowhere.
    const redis = new Redis(REDIS);
    try {
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.some((k) => k.startsWith(`${prefix}introspection:`))).toBe(true);
      for (const key of keys) {
        expect(key).not.toContain(bearer);
        const value = (await redis.type(key)) === 'string' ? await redis.get(key) : '';
        expect(value).not.toContain(bearer);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('does not share across key prefixes: a gateway on another prefix asks the OAuth server itself', async () => {
    const bearer = await token('read');
    const one = await gatewayOn(`pcl-test-${randomBytes(6).toString('hex')}:`);
    const other = await gatewayOn(`pcl-test-${randomBytes(6).toString('hex')}:`);
    const before = proxy.introspections;
    expect(await status(one, '/read/x', bearer)).toBe(200);
    expect(await status(other, '/read/x', bearer)).toBe(200);
    expect(proxy.introspections).toBe(before + 2);
  });
});

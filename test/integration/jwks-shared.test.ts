import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUD, FakeClock, ISS, makeKey, sign, startJwksServer, type JwksServer, type TestKey } from '../../src/auth/jwt/test-fixtures.js';
import { authRoute } from '../helpers/auth-route.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/**
 * One JWKS fetcher per source per process: routes trusting the same issuer through the same JWKS URI
 * share one fetch and one key set, also across a config reload; a route with other fetch settings
 * keeps its own.
 */
let jwks: JwksServer;
let key: TestKey;
let upstream: EchoUpstream;
let gw: TestGateway;
let yaml: string;

const method = (extra = '') => `issuers:\n  - { issuer: "${ISS}", audiences: ["${AUD}"], jwksUri: "${jwks.url}" }\n${extra}`;

beforeAll(async () => {
  key = await makeKey('ES256', 'shared-1');
  jwks = await startJwksServer([key.jwk]);
  upstream = await startUpstreamEcho();
  yaml = `version: 1
server: { listeners: [{ host: 127.0.0.1, port: 0 }] }
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
${authRoute('orders', 'jwt', method())}${authRoute('invoices', 'jwt', method())}${authRoute('slow', 'jwt', method('jwks: { refreshInterval: 7m }'))}`;
  gw = await startGateway(yaml);
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await jwks?.close();
});

/** A token no route has verified yet (fresh jti), so each call needs the key, not the verified-token cache. */
async function freshToken(): Promise<string> {
  return sign(key, new FakeClock(Date.now()), { jti: crypto.randomUUID() });
}

async function status(path: string, token: string): Promise<number> {
  const res = await request(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  await res.body.dump();
  return res.statusCode;
}

describe('JWKS shared across routes', () => {
  it('fetches the JWKS once for two routes with the same issuer, even when both need it at once', async () => {
    const [a, b] = await Promise.all([freshToken(), freshToken()]);
    expect(await Promise.all([status('/orders/1', a), status('/invoices/1', b)])).toEqual([200, 200]);
    expect(await status('/invoices/2', await freshToken())).toBe(200);
    expect(jwks.hits).toBe(1);
  });

  it('keeps a separate fetcher for a route whose fetch settings differ', async () => {
    const before = jwks.hits;
    expect(await status('/slow/1', await freshToken())).toBe(200);
    expect(jwks.hits).toBe(before + 1);
  });

  it('hands the warm keys to the routes of a reloaded config: no fetch after a reload', async () => {
    const before = jwks.hits;
    expect(await gw.gateway.reloadFromText(yaml.replace('name: invoices', 'name: invoices-v2'))).toBe(true);
    expect(await status('/orders/2', await freshToken())).toBe(200);
    expect(await status('/invoices/3', await freshToken())).toBe(200);
    expect(jwks.hits).toBe(before);
  });

  it('still refuses a token signed by a key the shared JWKS does not hold', async () => {
    const stranger = await makeKey('ES256', 'shared-1');
    expect(await status('/orders/3', await sign(stranger, new FakeClock(Date.now())))).toBe(401);
  });
});

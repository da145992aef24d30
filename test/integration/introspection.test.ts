import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthServerConfigText } from '../../src/auth-server/load.js';
import { startAuthServer, type RunningAuthServer } from '../../src/auth-server/server.js';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { phantomPublicJwks } from '../../src/auth/introspection/index.js';
import { makeKey, startJwksServer, type JwksServer } from '../../src/auth/jwt/test-fixtures.js';
import { authRoute } from '../helpers/auth-route.js';
import { startCountingProxy, type CountingProxy } from '../helpers/counting-proxy.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/auth-server.yaml', import.meta.url));
const DEMO = 'Basic ' + Buffer.from('demo-client:demo-secret').toString('base64');
const PHANTOM_ISS = 'https://gateway.portcullis.local';
const PHANTOM_AUD = 'https://api.portcullis.local/opaque';

const route = (name: string, method: string) => authRoute(name, 'introspection', method);

describe('authenticate with introspection against the bundled OAuth server', () => {
  let auth: RunningAuthServer;
  let authStore: SqliteStore;
  let proxy: CountingProxy;
  let upstream: EchoUpstream;
  let strangerJwks: JwksServer;
  let gw: TestGateway;

  async function issue(scope = 'read'): Promise<string> {
    const res = await request(`${auth.url}/token`, {
      method: 'POST',
      headers: { authorization: DEMO, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    });
    expect(res.statusCode).toBe(200);
    return ((await res.body.json()) as { access_token: string }).access_token;
  }

  async function call(path: string, token?: string) {
    const res = await request(`${gw.url}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  }

  beforeAll(async () => {
    const text = readFileSync(EXAMPLE, 'utf8').replace('port: 9000', 'port: 0');
    const { config, dir } = loadAuthServerConfigText(text, EXAMPLE);
    // Token state in a private in-memory SQLite Store, not the quick start's file the example names.
    authStore = SqliteStore.open({ path: ':memory:' });
    auth = await startAuthServer(config, { dir, store: authStore });
    proxy = await startCountingProxy(() => auth.url);
    upstream = await startUpstreamEcho();
    strangerJwks = await startJwksServer([(await makeKey('RS256', 'stranger')).jwk]);
    const client = `clientId: portcullis-gateway\nclientSecret: portcullis-dev-introspection-secret\n`;
    const counted = `endpoint: "${proxy.url}/token/introspection"\n${client}`;
    const phantom = `phantom: { issuer: "${PHANTOM_ISS}", audience: "${PHANTOM_AUD}", signingKey: { generate: true } }\n`;
    const jwtMode = (jwks: string) =>
      `endpoint: "${auth.url}/token/introspection"\n${client}jwtResponse: true\nissuer: "${auth.issuer}"\njwksUri: "${jwks}"\n`;
    gw = await startGateway(
      `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
${route('opaque', counted + phantom)}${route('writers', counted + 'requiredScopes: [write]\n')}${route(
        'short',
        counted + 'cache: { positiveTtl: 100ms }\n',
      )}${route('slow', `endpoint: "${proxy.url}/hang/introspection"\n${client}timeout: 300ms\n`)}${route(
        'direct',
        `endpoint: "${auth.url}/token/introspection"\n${client}`,
      )}${route('signed', jwtMode(`${auth.url}/jwks`) + phantom)}${route('tampered', jwtMode(strangerJwks.url))}`,
    );
  });

  afterAll(async () => {
    await gw?.close();
    await proxy?.close();
    await upstream?.close();
    await strangerJwks?.close();
    await auth?.close();
    await authStore?.close();
  });

  it('forwards an opaque token as a phantom JWT the upstream verifies, never the opaque token', async () => {
    const opaque = await issue('read write');
    const res = await call('/opaque/orders', opaque);
    expect(res.status).toBe(200);
    const seen = upstream.seen.at(-1)!.headers;
    expect(JSON.stringify(upstream.seen.at(-1)!.rawHeaders)).not.toContain(opaque);
    const phantom = /^Bearer (.+)$/.exec(String(seen.authorization))![1]!;
    expect(decodeProtectedHeader(phantom)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const { payload } = await jwtVerify(phantom, createLocalJWKSet(phantomPublicJwks()), { issuer: PHANTOM_ISS, audience: PHANTOM_AUD, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'demo-client', scope: 'read write', client_id: 'demo-client' });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
    expect(payload.jti).toBeTypeOf('string');
    expect(seen['x-auth-subject']).toBe('demo-client');
    expect(seen['x-auth-scopes']).toBe('read write');
    expect(seen['x-auth-method']).toBe('introspection');
    expect(seen['x-consumer-id']).toBe('demo-client');
  });

  it('reuses a cached answer (no second introspection) but still refuses a route whose scope it lacks', async () => {
    const opaque = await issue('read');
    expect((await call('/opaque/a', opaque)).status).toBe(200);
    const before = proxy.introspections;
    expect((await call('/opaque/b', opaque)).status).toBe(200);
    const denied = await call('/writers/x', opaque);
    expect(denied.status).toBe(401);
    expect(denied.body.code).toBe('GW_AUTHN_INVALID');
    expect(proxy.introspections).toBe(before);
    await expect.poll(() => gw.logs.access().at(-1)?.reason).toMatch(/missing required scope write/);
    expect((await call('/writers/x', await issue('read write'))).status).toBe(200);
  });

  it('strips the opaque token without phantom, and answers 401 with a Bearer challenge without a token', async () => {
    const opaque = await issue();
    expect((await call('/direct/x', opaque)).status).toBe(200);
    expect(upstream.seen.at(-1)!.headers.authorization).toBeUndefined();
    const none = await call('/direct/x');
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('GW_AUTHN_REQUIRED');
    expect(none.headers['www-authenticate']).toBe('Bearer realm="portcullis"');
  });

  it('refuses a revoked token once the positive cache has run out', async () => {
    const opaque = await issue();
    expect((await call('/short/x', opaque)).status).toBe(200);
    const revoked = await request(`${auth.url}/token/revocation`, {
      method: 'POST',
      headers: { authorization: DEMO, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: opaque, token_type_hint: 'access_token' }).toString(),
    });
    expect(revoked.statusCode).toBe(200);
    await revoked.body.dump();
    await new Promise((r) => setTimeout(r, 150));
    const res = await call('/short/x', opaque);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="portcullis", error="invalid_token"');
  });

  it('refuses garbage and JWT-shaped tokens, introspecting each once within the negative TTL', async () => {
    for (const garbage of [`garbage-${Date.now()}`, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.c2ln']) {
      const before = proxy.introspections;
      expect((await call('/opaque/x', garbage)).status).toBe(401);
      expect((await call('/opaque/x', garbage)).status).toBe(401);
      expect(proxy.introspections).toBe(before + 1);
    }
  });

  it('fails closed (503 GW_POLICY_UNAVAILABLE) when the introspection endpoint times out', async () => {
    const res = await call('/slow/x', await issue());
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('GW_POLICY_UNAVAILABLE');
  });

  it('verifies RFC 9701 signed responses and refuses one signed by a key the JWKS does not hold', async () => {
    const opaque = await issue('write');
    const ok = await call('/signed/x', opaque);
    expect(ok.status).toBe(200);
    expect(JSON.stringify(upstream.seen.at(-1)!.headers)).not.toContain(opaque);
    const tampered = await call('/tampered/x', opaque);
    expect(tampered.status).toBe(503);
    expect(tampered.body.code).toBe('GW_POLICY_UNAVAILABLE');
    expect((await call('/signed/x', 'not-a-token-at-all')).status).toBe(401);
  });

  it('fails closed when the OAuth server is down (last: stops it)', async () => {
    const opaque = await issue();
    await auth.close();
    const res = await call('/direct/x', opaque);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('GW_POLICY_UNAVAILABLE');
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});

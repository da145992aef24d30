import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthServerConfigText } from '../../src/auth-server/load.js';
import { startAuthServer, type RunningAuthServer } from '../../src/auth-server/server.js';
import { PHANTOM_JWKS_PATH } from '../../src/admin/admin-server.js';
import { ChildGateway, ensureBuilt, freePort, getFresh, killChildren, removeTempDirs, statusOf, tempDir, waitFor } from '../helpers/child-gateway.js';
import { authRoute } from '../helpers/auth-route.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/**
 * Upstreams verify phantom tokens with the JWKS the admin listener serves at PHANTOM_JWKS_PATH:
 * what the upstream received verifies against it with jose, a token signed by any other key does
 * not, generated keys change on restart (old tokens stop verifying) and configured keys do not.
 */
const ISS = 'https://gateway.portcullis.local';
const AUD = 'https://api.portcullis.local/orders';

let auth: RunningAuthServer;
let upstream: EchoUpstream;

beforeAll(async () => {
  const text = `listen: { port: 0 }
storage: { backend: memory }
clients:
  - { clientId: app, clientSecret: app-secret-1, scopes: [read] }
  - { clientId: gateway, clientSecret: gateway-secret-1, introspection: true }
`;
  auth = await startAuthServer(loadAuthServerConfigText(text, '/cfg/auth.yaml').config);
  upstream = await startUpstreamEcho();
});

afterAll(async () => {
  await upstream?.close();
  await auth?.close();
  await killChildren();
  removeTempDirs();
});

function config(signingKey: string, listeners = '[{ host: 127.0.0.1, port: 0 }]', admin = 0, workers = 1): string {
  return `version: 1
server:
  listeners: ${listeners}
  workers: ${workers}
admin: { host: 127.0.0.1, port: ${admin} }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
${authRoute(
  'orders',
  'introspection',
  `endpoint: "${auth.url}/token/introspection"
clientId: gateway
clientSecret: gateway-secret-1
phantom: { issuer: "${ISS}", audience: "${AUD}", signingKey: ${signingKey} }`,
)}`;
}

async function opaqueToken(): Promise<string> {
  const res = await request(`${auth.url}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('app:app-secret-1').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=read',
  });
  return ((await res.body.json()) as { access_token: string }).access_token;
}

/** Calls through the gateway and returns the phantom JWT the upstream received. */
async function phantomVia(gw: TestGateway): Promise<string> {
  // A connection per request (reset), so a cluster's round-robin hands requests to every worker.
  const res = await request(`${gw.url}/orders/1`, { reset: true, headers: { authorization: `Bearer ${await opaqueToken()}` } });
  expect(res.statusCode).toBe(200);
  await res.body.dump();
  const header = upstream.seen.at(-1)!.headers['authorization'];
  expect(header).toMatch(/^Bearer ey/);
  return String(header).slice('Bearer '.length);
}

const jwksUrl = (gw: TestGateway) => new URL(`http://127.0.0.1:${gw.gateway.adminPort}${PHANTOM_JWKS_PATH}`);
const verify = (jwt: string, gw: TestGateway) => jwtVerify(jwt, createRemoteJWKSet(jwksUrl(gw)), { issuer: ISS, audience: AUD, typ: 'at+jwt' });

describe('phantom-token JWKS on the admin listener', () => {
  it('serves public keys only, and the phantom JWT the upstream got verifies against them with jose', async () => {
    const gw = await startGateway(config('{ generate: true }'));
    try {
      const jwt = await phantomVia(gw);
      const res = await request(jwksUrl(gw));
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/jwk-set+json');
      const set = (await res.body.json()) as { keys: JWK[] };
      expect(set.keys).toHaveLength(1);
      expect(set.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: decodeProtectedHeader(jwt).kid });
      expect(set.keys[0]).not.toHaveProperty('d');
      const { payload } = await verify(jwt, gw);
      expect(payload).toMatchObject({ iss: ISS, aud: AUD, sub: 'app', client_id: 'app', scope: 'read' });
    } finally {
      await gw.close();
    }
  });

  it('does not verify a token an attacker signed with another key under the published kid', async () => {
    const gw = await startGateway(config('{ generate: true }'));
    try {
      const { kid } = decodeProtectedHeader(await phantomVia(gw));
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await new SignJWT({ sub: 'admin', scope: 'admin' })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: kid! })
        .setIssuer(ISS)
        .setAudience(AUD)
        .setIssuedAt()
        .setExpirationTime('1m')
        .sign(privateKey);
      await expect(verify(forged, gw)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    } finally {
      await gw.close();
    }
  });

  it('publishes a new generated key after a restart: tokens signed before it no longer verify', async () => {
    let gw = await startGateway(config('{ generate: true }'));
    const before = await phantomVia(gw);
    await gw.close();
    gw = await startGateway(config('{ generate: true }'));
    try {
      const set = (await (await request(jwksUrl(gw))).body.json()) as { keys: JWK[] };
      expect(set.keys.map((k) => k.kid)).not.toContain(decodeProtectedHeader(before).kid);
      await expect(verify(before, gw)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
      await verify(await phantomVia(gw), gw);
    } finally {
      await gw.close();
    }
  });

  it('keeps a configured key across a restart: tokens signed before it still verify', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const key = JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'phantom-2026' });
    let gw = await startGateway(config(key));
    const before = await phantomVia(gw);
    await gw.close();
    gw = await startGateway(config(key));
    try {
      const set = (await (await request(jwksUrl(gw))).body.json()) as { keys: JWK[] };
      expect(set.keys).toEqual([expect.objectContaining({ kid: 'phantom-2026', kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' })]);
      expect(set.keys[0]).not.toHaveProperty('d');
      expect((await verify(before, gw)).protectedHeader.kid).toBe('phantom-2026');
    } finally {
      await gw.close();
    }
  });
});

describe('phantom-token JWKS of a cluster', () => {
  it('serves the union of every worker\'s generated key from the primary, and each worker\'s tokens verify', async () => {
    await ensureBuilt();
    const [port, admin] = [await freePort(), await freePort()];
    const file = join(tempDir(), 'cluster.yaml');
    writeFileSync(file, config('{ generate: true }', `[{ host: 127.0.0.1, port: ${port} }]`, admin, 2));
    const child = new ChildGateway(file);
    await waitFor(async () => (await statusOf(admin, '/ready')) === 200, 30_000, `the cluster to be ready\n${child.stderr}`);
    const answer = await getFresh(admin, PHANTOM_JWKS_PATH);
    const set = JSON.parse(answer.body) as { keys: JWK[] };
    expect(set.keys).toHaveLength(2);
    expect(new Set(set.keys.map((k) => k.kid)).size).toBe(2);
    // Requests spread over both workers (round-robin): every phantom token verifies against the union.
    const kids = new Set<string>();
    const gw = { url: `http://127.0.0.1:${port}`, gateway: { adminPort: admin } } as TestGateway;
    for (let i = 0; i < 6; i++) {
      const jwt = await phantomVia(gw);
      kids.add(decodeProtectedHeader(jwt).kid!);
      await verify(jwt, gw);
    }
    expect(kids.size).toBe(2);
  }, 60_000);
});

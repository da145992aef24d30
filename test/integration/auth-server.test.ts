import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthServerConfigText } from '../../src/auth-server/load.js';
import { startAuthServer, type RunningAuthServer } from '../../src/auth-server/server.js';
import { SqliteStore } from '../../src/storage/sqlite/store.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/auth-server.yaml', import.meta.url));
const JWT_RESOURCE = 'https://api.portcullis.local/jwt';
const DEMO = { id: 'demo-client', secret: 'demo-secret' };
const GATEWAY = { id: 'portcullis-gateway', secret: 'portcullis-dev-introspection-secret' };

type Client = { id: string; secret: string };
const basic = (c: Client) => `Basic ${Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64')}`;

let server: RunningAuthServer;
let authStore: SqliteStore;
let metadata: Record<string, unknown>;
let jwks: ReturnType<typeof createLocalJWKSet>;

async function post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await request(new URL(path, server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function token(client: Client, form: Record<string, string> = {}) {
  return post('/token', { grant_type: 'client_credentials', ...form }, { authorization: basic(client) });
}

async function introspect(client: Client, value: string, accept = 'application/json') {
  return post('/token/introspection', { token: value }, { authorization: basic(client), accept });
}

async function issuedToken(form: Record<string, string> = { scope: 'read' }): Promise<string> {
  const res = await token(DEMO, form);
  expect(res.status).toBe(200);
  return res.json()['access_token'] as string;
}

beforeAll(async () => {
  const text = readFileSync(EXAMPLE, 'utf8').replace('port: 9000', 'port: 0');
  const { config, dir } = loadAuthServerConfigText(text, EXAMPLE);
  // Token state in a private in-memory SQLite Store, not the quick start's file the example names.
  authStore = SqliteStore.open({ path: ':memory:' });
  server = await startAuthServer(config, { dir, store: authStore });
  const res = await request(new URL('/.well-known/openid-configuration', server.url));
  metadata = (await res.body.json()) as Record<string, unknown>;
  const keys = await request(metadata['jwks_uri'] as string);
  jwks = createLocalJWKSet((await keys.body.json()) as JSONWebKeySet);
});

afterAll(async () => {
  await server?.close();
  await authStore?.close();
});

describe('discovery (RFC 8414)', () => {
  it('publishes the endpoints and capabilities the gateway needs', () => {
    expect(metadata['issuer']).toBe(server.issuer);
    expect(metadata['token_endpoint']).toBe(`${server.issuer}/token`);
    expect(metadata['introspection_endpoint']).toBe(`${server.issuer}/token/introspection`);
    expect(metadata['revocation_endpoint']).toBe(`${server.issuer}/token/revocation`);
    expect(metadata['jwks_uri']).toBe(`${server.issuer}/jwks`);
    expect(metadata['grant_types_supported']).toEqual(['client_credentials']);
    expect(metadata['token_endpoint_auth_methods_supported']).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(metadata['introspection_signing_alg_values_supported']).toContain('RS256');
    expect(metadata['scopes_supported']).toEqual(expect.arrayContaining(['read', 'write']));
  });

  it('serves the same document at /.well-known/oauth-authorization-server', async () => {
    const res = await request(new URL('/.well-known/oauth-authorization-server', server.url));
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual(metadata);
  });

  it('publishes only public keys in the JWKS', async () => {
    const res = await request(metadata['jwks_uri'] as string);
    const set = (await res.body.json()) as JSONWebKeySet;
    expect(set.keys.length).toBeGreaterThan(0);
    for (const key of set.keys) expect(key).not.toHaveProperty('d');
  });
});

describe('client credentials grant (RFC 6749 section 4.4)', () => {
  it('issues an opaque token to client_secret_basic', async () => {
    const res = await token(DEMO, { scope: 'read' });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'read', expires_in: 600 });
    expect(body['access_token']).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('issues an opaque token to client_secret_post', async () => {
    const res = await post('/token', { grant_type: 'client_credentials', client_id: DEMO.id, client_secret: DEMO.secret, scope: 'read write' });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ token_type: 'Bearer', scope: 'read write' });
    expect(res.json()['access_token']).not.toContain('.');
  });

  it('issues an RFC 9068 JWT when the resource indicator names a JWT resource', async () => {
    const res = await token(DEMO, { scope: 'read write', resource: JWT_RESOURCE });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'read write', expires_in: 300 });
    const jwt = body['access_token'] as string;
    expect(decodeProtectedHeader(jwt)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks, { issuer: server.issuer, audience: JWT_RESOURCE, typ: 'at+jwt' });
    expect(protectedHeader.kid).toBeTypeOf('string');
    expect(payload).toMatchObject({ iss: server.issuer, aud: JWT_RESOURCE, client_id: 'demo-client', sub: 'demo-client', scope: 'read write' });
    const now = Math.floor(Date.now() / 1000);
    expect(payload.exp).toBeGreaterThan(now + 290);
    expect(payload.exp).toBeLessThanOrEqual(now + 301);
    expect(payload.jti).toBeTypeOf('string');
  });

  it('answers 401 invalid_client to a wrong client secret', async () => {
    const res = await token({ id: DEMO.id, secret: 'not-the-secret' }, { scope: 'read' });
    expect(res.status).toBe(401);
    expect(res.json()['error']).toBe('invalid_client');
  });

  it('answers 401 invalid_client to an unknown client', async () => {
    const res = await token({ id: 'nobody', secret: 'whatever-secret' });
    expect(res.status).toBe(401);
    expect(res.json()['error']).toBe('invalid_client');
  });

  it('refuses a grant type it does not support with unsupported_grant_type', async () => {
    const res = await post('/token', { grant_type: 'password', username: 'a', password: 'b' }, { authorization: basic(DEMO) });
    expect(res.status).toBe(400);
    expect(res.json()['error']).toBe('unsupported_grant_type');
  });

  it('refuses a known scope the client may not request with invalid_scope', async () => {
    // The gateway's client has no scopes; `read` is known to the server (demo-client has it).
    const res = await token(GATEWAY, { scope: 'read' });
    expect(res.status).toBe(400);
    expect(res.json()['error']).toBe('invalid_scope');
  });

  it('drops a scope the server does not know and grants the rest (RFC 6749 section 3.3)', async () => {
    const res = await token(DEMO, { scope: 'read delete' });
    expect(res.status).toBe(200);
    expect(res.json()['scope']).toBe('read');
  });

  it('refuses a resource the client may not use, and an unknown one, with invalid_target (RFC 8707)', async () => {
    const notAllowed = await token(GATEWAY, { resource: JWT_RESOURCE });
    expect(notAllowed.status).toBe(400);
    expect(notAllowed.json()['error']).toBe('invalid_target');
    const unknown = await token(DEMO, { scope: 'read', resource: 'https://elsewhere.example/' });
    expect(unknown.status).toBe(400);
    expect(unknown.json()['error']).toBe('invalid_target');
  });
});

describe('introspection (RFC 7662, RFC 9701)', () => {
  it('tells the gateway client an issued token is active, with scope, client_id and exp', async () => {
    const value = await issuedToken({ scope: 'read write' });
    const res = await introspect(GATEWAY, value);
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ active: true, scope: 'read write', client_id: 'demo-client', token_type: 'Bearer', iss: server.issuer });
    expect(body['exp']).toBeGreaterThan(Math.floor(Date.now() / 1000));
  });

  it('tells any other client active: false, even about its own valid token', async () => {
    const value = await issuedToken();
    const res = await introspect(DEMO, value);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ active: false });
  });

  it('refuses an introspection call without client authentication (400 invalid_request), and a wrong secret (401)', async () => {
    const value = await issuedToken();
    // oidc-provider answers a request with no client authentication at all as malformed (RFC 6749 section 5.2).
    const anonymous = await post('/token/introspection', { token: value });
    expect(anonymous.status).toBe(400);
    expect(anonymous.json()['error']).toBe('invalid_request');
    const wrong = await introspect({ id: GATEWAY.id, secret: 'wrong-secret-value' }, value);
    expect(wrong.status).toBe(401);
    expect(wrong.json()['error']).toBe('invalid_client');
  });

  it('says active: false for a token it never issued', async () => {
    const res = await introspect(GATEWAY, 'made-up-token-value-0123456789abcdef');
    expect(res.json()).toEqual({ active: false });
  });

  it('answers a signed JWT (typ token-introspection+jwt) when asked with Accept', async () => {
    const value = await issuedToken({ scope: 'write' });
    const res = await introspect(GATEWAY, value, 'application/token-introspection+jwt');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/token-introspection\+jwt/);
    const { payload, protectedHeader } = await jwtVerify(res.text, jwks, {
      issuer: server.issuer,
      audience: GATEWAY.id,
      typ: 'token-introspection+jwt',
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload['token_introspection']).toMatchObject({ active: true, scope: 'write', client_id: 'demo-client' });
  });
});

describe('revocation (RFC 7009)', () => {
  it('makes a revoked token inactive', async () => {
    const value = await issuedToken();
    expect((await introspect(GATEWAY, value)).json()['active']).toBe(true);
    const res = await post('/token/revocation', { token: value, token_type_hint: 'access_token' }, { authorization: basic(DEMO) });
    expect(res.status).toBe(200);
    expect((await introspect(GATEWAY, value)).json()).toEqual({ active: false });
  });

  it('answers 200 for a token it does not know (RFC 7009 section 2.2)', async () => {
    const res = await post('/token/revocation', { token: 'never-issued-token-0123456789' }, { authorization: basic(DEMO) });
    expect(res.status).toBe(200);
  });
});

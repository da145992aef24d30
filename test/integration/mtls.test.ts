import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, makeKey, sign, type TestKey } from '../../src/auth/jwt/test-fixtures.js';
import { fingerprintLookupId } from '../../src/auth/mtls/index.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfigText } from '../../src/config/load.js';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';
import { clientIdentity, fetchOnce, tlsFixture, type ClientOptions, type Reply } from '../helpers/tls-clients.js';

// Over 250 lines on purpose: every case shares one gateway with three listeners (required, optional,
// plain) and one Store, since starting TLS gateways per file costs more than the cases themselves.

const client = clientIdentity('client');
const san = clientIdentity('client-san');
const unmapped = clientIdentity('client-unmapped');
const revoked = clientIdentity('client-revoked');
const otherCa = clientIdentity('client-other-ca');
const selfSigned = clientIdentity('client-self-signed');

const ISS = 'https://issuer.example';
const STRICT_ISS = 'https://strict.issuer.example';
const AUD = 'https://api.example';

const tls = (mode: string, extra = '') =>
  `tls: { cert: "${tlsFixture('server.pem')}", key: "${tlsFixture('server.key')}", clientCertificates: { mode: ${mode}, ca: "${tlsFixture('ca.pem')}"${extra} } }`;
const authenticate = (methods: string, lockout = '{ enabled: false }') => `    policies:
      - name: authenticate
        config:
          lockout: ${lockout}
          methods:
${methods}`;

function gatewayConfig(storePath: string, key: TestKey, introspectionUrl: string): string {
  const jwt = (issuer: string, strict: boolean) => `            - type: jwt
              config:
                issuers: [{ issuer: "${issuer}", audiences: ["${AUD}"], staticKeys: [${JSON.stringify(key.jwk)}], requireCertificateBinding: ${strict} }]
`;
  return `version: 1
server:
  listeners:
    - { name: required, host: 127.0.0.1, port: 0, ${tls('required', `, crl: "${tlsFixture('ca.crl')}"`)} }
    - { name: optional, host: 127.0.0.1, port: 0, ${tls('optional')} }
    - { name: plain, host: 127.0.0.1, port: 0 }
admin: { enabled: false }
storage: { backend: sqlite, sqlite: { path: "${storePath}" } }
upstreams:
  up: { targets: [{ url: "{{UPSTREAM}}" }] }
routes:
  - name: mtls
    match: { paths: ["/mtls/*"] }
    forward: { upstream: up }
${authenticate(`            - type: mtls
              config:
                store: true
                mappings:
                  - { match: { subject: "CN=portcullis-test-client" }, consumerId: test-client, scopes: [orders:read] }
`)}
  - name: bound
    match: { paths: ["/bound/*"] }
    forward: { upstream: up }
${authenticate(jwt(ISS, false))}
  - name: bound-lockout
    match: { paths: ["/bound-lockout/*"] }
    forward: { upstream: up }
${authenticate(jwt(ISS, false), '{ perCredential: { threshold: 2 }, perIp: { threshold: 1000 } }')}
  - name: strict
    match: { paths: ["/strict/*"] }
    forward: { upstream: up }
${authenticate(jwt(STRICT_ISS, true))}
  - name: introspected
    match: { paths: ["/introspected/*"] }
    forward: { upstream: up }
${authenticate(`            - type: introspection
              config: { endpoint: "${introspectionUrl}", clientId: gateway, clientSecret: s3cret, cache: { positiveTtl: 60s } }
`)}
  - name: introspected-strict
    match: { paths: ["/introspected-strict/*"] }
    forward: { upstream: up }
${authenticate(`            - type: introspection
              config: { endpoint: "${introspectionUrl}", clientId: gateway, clientSecret: s3cret, requireCertificateBinding: true }
`)}
  - name: open
    match: { paths: ["/*"] }
    forward: { upstream: up }
`;
}

describe('mutual TLS through the gateway', () => {
  let upstream: EchoUpstream;
  let oauth: EchoUpstream;
  let gw: TestGateway;
  let dir: string;
  let key: TestKey;
  let storeConsumerId: string;
  const clock = new FakeClock(Date.now());
  let ports: { required: number; optional: number; plain: number };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pcl-mtls-'));
    const storePath = join(dir, 'gw.db');
    const store = SqliteStore.open({ path: storePath });
    const consumer = await store.consumers.create({ name: 'acme' });
    storeConsumerId = consumer.id;
    const lookupId = fingerprintLookupId(san.fingerprint256.replaceAll(':', '').toLowerCase());
    await store.credentials.create({ consumerId: consumer.id, type: 'mtls', lookupId, secretHash: lookupId, scopes: ['billing:read'] });
    await store.close();
    key = await makeKey('ES256', 'k1');
    upstream = await startUpstreamEcho();
    // A real RFC 7662 endpoint on port 0: `bound-token` is bound to client.pem, `plain-token` to nothing.
    oauth = await startUpstreamEcho((_req, res, body) => {
      const token = new URLSearchParams(body.toString()).get('token');
      const answer = token === 'bound-token' ? { active: true, sub: 'svc', cnf: { 'x5t#S256': client.x5tS256 } } : { active: token === 'plain-token', sub: 'svc' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
    gw = await startGateway(gatewayConfig(storePath, key, `${oauth.url}/introspect`), { upstreamUrl: upstream.url });
    const [required, optional, plain] = gw.gateway.ports as [number, number, number];
    ports = { required, optional, plain };
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    await oauth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Access-log lines before the last request: its own line is the next one. */
  let mark = 0;
  const via = (listener: keyof typeof ports, path: string, options: ClientOptions = {}): Promise<Reply> => {
    mark = gw.logs.access().length;
    return fetchOnce(ports[listener], path, { ...options, plain: listener === 'plain' });
  };
  const code = (reply: Reply) => (JSON.parse(reply.body) as { code?: string }).code;
  const lastReason = async () => {
    await expect.poll(() => gw.logs.access().length).toBeGreaterThan(mark);
    return String(gw.logs.access()[mark]!.reason);
  };
  const bearer = async (issuer: string, cnf?: Record<string, unknown>) =>
    ({ authorization: `Bearer ${await sign(key, clock, { iss: issuer, aud: AUD, sub: 'alice', ...(cnf === undefined ? {} : { cnf }) })}` });

  describe('listener with clientCertificates.mode required', () => {
    it.each([
      ['no certificate', undefined],
      ['a certificate with the right subject from an untrusted CA', otherCa],
      ['a self-signed certificate with the right subject', selfSigned],
      ['a certificate revoked in the CRL', revoked],
    ])('refuses %s during the handshake, before any HTTP is read', async (_what, identity) => {
      const before = upstream.seen.length;
      await expect(via('required', '/mtls/x', identity === undefined ? {} : { identity })).rejects.toThrow(/certificate|alert|socket hang up|ECONNRESET/i);
      expect(upstream.seen.length).toBe(before);
    });

    it('lets a verified, mapped certificate through and tells the upstream who is calling', async () => {
      const reply = await via('required', '/mtls/orders', { identity: client, headers: { 'x-consumer-id': 'admin' } });
      expect(reply.status).toBe(200);
      const seen = upstream.seen.at(-1)!.headers;
      expect(seen['x-consumer-id']).toBe('test-client');
      expect(seen['x-auth-method']).toBe('mtls');
      expect(seen['x-auth-scopes']).toBe('orders:read');
    });
  });

  describe('listener with clientCertificates.mode optional', () => {
    it('lets a client without a certificate reach an open route, and asks for a credential on an mtls route', async () => {
      expect((await via('optional', '/anything')).status).toBe(200);
      const reply = await via('optional', '/mtls/x');
      expect(reply.status).toBe(401);
      expect(code(reply)).toBe('GW_AUTHN_REQUIRED');
      expect(reply.headers['www-authenticate']).toBe('MutualTLS realm="portcullis"');
    });

    it.each([
      ['from an untrusted CA', otherCa, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      ['self-signed', selfSigned, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    ])('refuses a certificate with the mapped subject %s with 401', async (_what, identity, error) => {
      const before = upstream.seen.length;
      const reply = await via('optional', '/mtls/x', { identity });
      expect(reply.status).toBe(401);
      expect(code(reply)).toBe('GW_AUTHN_INVALID');
      expect(await lastReason()).toBe(`mtls: mtls: client certificate did not verify (${error})`);
      expect(upstream.seen.length).toBe(before);
    });

    it('refuses a verified certificate that is mapped to no consumer', async () => {
      const reply = await via('optional', '/mtls/x', { identity: unmapped });
      expect(reply.status).toBe(401);
      expect(await lastReason()).toMatch(/CN=portcullis-unmapped-client .* is mapped to no consumer$/);
    });

    it('maps a certificate through a Store credential by fingerprint', async () => {
      const reply = await via('optional', '/mtls/x', { identity: san });
      expect(reply.status).toBe(200);
      expect(upstream.seen.at(-1)!.headers['x-consumer-id']).toBe(storeConsumerId);
      expect(upstream.seen.at(-1)!.headers['x-auth-scopes']).toBe('billing:read');
    });
  });

  describe('certificate-bound JWTs (RFC 8705)', () => {
    it('accepts a bound token over TLS with the certificate it is bound to, again from the verified-token cache', async () => {
      const headers = await bearer(ISS, { 'x5t#S256': client.x5tS256 });
      expect((await via('optional', '/bound/x', { identity: client, headers })).status).toBe(200);
      expect((await via('required', '/bound/x', { identity: client, headers })).status).toBe(200);
    });

    it('refuses a stolen bound token presented with another verified certificate, even once cached', async () => {
      const headers = await bearer(ISS, { 'x5t#S256': client.x5tS256 });
      expect((await via('optional', '/bound/x', { identity: client, headers })).status).toBe(200);
      const reply = await via('optional', '/bound/x', { identity: san, headers });
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="portcullis", error="invalid_token"');
      expect(await lastReason()).toMatch(/^jwt: jwt: certificate-bound token presented with another client certificate/);
    });

    it('does not let a thief lock the rightful holder out by failing with the stolen token', async () => {
      const headers = await bearer(ISS, { 'x5t#S256': client.x5tS256 });
      for (let i = 0; i < 4; i++) expect((await via('optional', '/bound-lockout/x', { identity: san, headers })).status).toBe(401);
      expect((await via('optional', '/bound-lockout/x', { identity: client, headers })).status).toBe(200);
      // A token that is itself bad is still counted per credential and locked out (429).
      const forged = { authorization: `${headers.authorization.slice(0, -4)}AAAA` };
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await via('optional', '/bound-lockout/x', { identity: client, headers: forged })).status);
      expect(statuses).toEqual([401, 429, 429]);
    });

    it('refuses a bound token presented with an unverified certificate of the same subject', async () => {
      const reply = await via('optional', '/bound/x', { identity: otherCa, headers: await bearer(ISS, { 'x5t#S256': client.x5tS256 }) });
      expect(reply.status).toBe(401);
      expect(await lastReason()).toMatch(/did not verify/);
    });

    it('refuses a bound token presented without any client certificate, and over plain HTTP', async () => {
      const headers = await bearer(ISS, { 'x5t#S256': client.x5tS256 });
      expect((await via('optional', '/bound/x', { headers })).status).toBe(401);
      expect(await lastReason()).toMatch(/without a client certificate \(no client certificate/);
      expect((await via('plain', '/bound/x', { headers })).status).toBe(401);
      expect(await lastReason()).toMatch(/without a client certificate \(plain HTTP/);
    });

    it('refuses a malformed thumbprint', async () => {
      const reply = await via('optional', '/bound/x', { identity: client, headers: await bearer(ISS, { 'x5t#S256': client.x5tS256.slice(1) }) });
      expect(reply.status).toBe(401);
      expect(await lastReason()).toMatch(/not a base64url SHA-256 thumbprint/);
    });

    it('accepts an unbound token where binding is optional, and refuses it where the issuer requires binding', async () => {
      expect((await via('plain', '/bound/x', { headers: await bearer(ISS) })).status).toBe(200);
      const reply = await via('optional', '/strict/x', { identity: client, headers: await bearer(STRICT_ISS) });
      expect(reply.status).toBe(401);
      expect(await lastReason()).toMatch(/not certificate-bound .* binding is required/);
      expect((await via('optional', '/strict/x', { identity: client, headers: await bearer(STRICT_ISS, { 'x5t#S256': client.x5tS256 }) })).status).toBe(200);
    });
  });

  describe('certificate-bound introspected tokens (RFC 8705)', () => {
    const bound = { authorization: 'Bearer bound-token' };
    it('accepts a bound token with its certificate, and refuses it, cached, with another, none, or over plain HTTP', async () => {
      expect((await via('optional', '/introspected/x', { identity: client, headers: bound })).status).toBe(200);
      const calls = oauth.seen.length;
      expect((await via('optional', '/introspected/x', { identity: san, headers: bound })).status).toBe(401);
      expect(await lastReason()).toMatch(/^introspection: introspection: certificate-bound token presented with another client certificate/);
      expect((await via('optional', '/introspected/x', { headers: bound })).status).toBe(401);
      expect((await via('plain', '/introspected/x', { headers: bound })).status).toBe(401);
      expect(await lastReason()).toMatch(/plain HTTP/);
      // The answer came from the cache: the binding is checked per request, not per introspection call.
      expect(oauth.seen.length).toBe(calls);
    });

    it('refuses an unbound token where binding is required, and accepts a bound one there', async () => {
      expect((await via('plain', '/introspected/x', { headers: { authorization: 'Bearer plain-token' } })).status).toBe(200);
      expect((await via('optional', '/introspected-strict/x', { identity: client, headers: { authorization: 'Bearer plain-token' } })).status).toBe(401);
      expect(await lastReason()).toMatch(/not certificate-bound/);
      expect((await via('optional', '/introspected-strict/x', { identity: client, headers: bound })).status).toBe(200);
    });
  });
});

describe('clientCertificates config', () => {
  const load = (clientCertificates: string) =>
    loadConfigText(
      `version: 1
server:
  listeners: [{ port: 0, tls: { cert: "${tlsFixture('server.pem')}", key: "${tlsFixture('server.key')}", clientCertificates: ${clientCertificates} } }]
upstreams: { up: { targets: [{ url: "http://127.0.0.1:1" }] } }
routes: [{ name: r, match: { paths: ["/*"] }, forward: { upstream: up } }]
`,
      '/tmp/mtls-config.yaml',
    );
  const problems = (clientCertificates: string): string => {
    try {
      load(clientCertificates);
      return '';
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.issues.map((i) => `${i.field}: ${i.message}`).join('\n');
    }
  };

  it('refuses at load a required mode without a CA, a missing file, a leaf certificate as CA and a CRL that is not one', () => {
    expect(problems('{ mode: required }')).toMatch(/clientCertificates\.ca: mode required needs ca/);
    expect(problems(`{ mode: optional, ca: "${tlsFixture('nope.pem')}" }`)).toMatch(/clientCertificates\.ca: file not found/);
    expect(problems(`{ mode: optional, ca: "${tlsFixture('client.pem')}" }`)).toMatch(/is not a CA/);
    expect(problems(`{ mode: optional, ca: "${tlsFixture('ca.pem')}", crl: "${tlsFixture('ca.pem')}" }`)).toMatch(/clientCertificates\.crl: .* no PEM "X509 CRL" block/);
    expect(problems(`{ mode: required, ca: ["${tlsFixture('ca.pem')}", "${tlsFixture('other-ca.pem')}"], crl: "${tlsFixture('ca.crl')}" }`)).toBe('');
  });
});

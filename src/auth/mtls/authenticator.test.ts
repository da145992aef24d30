import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeDeps } from '../../../test/helpers/context.js';
import { clientIdentity, fetchOnce, tlsFixture } from '../../../test/helpers/tls-clients.js';
import { configValidator } from '../../config/ajv.js';
import { RequestContext } from '../../core/context.js';
import { MemoryStateStore } from '../../state/memory.js';
import { SqliteStore } from '../../storage/sqlite/store.js';
import type { AuthResult, Authenticator } from '../authenticator.js';
import { FakeClock } from '../jwt/test-fixtures.js';
import { CREDENTIALS_CHANNEL } from '../revocations.js';
import { createMtlsAuthenticator, type MtlsAuthenticator } from './authenticator.js';
import { fingerprintLookupId, subjectLookupId } from './mappings.js';
import { dnKey } from './names.js';
import { MtlsMethodSchema, type MtlsMethodConfig } from './schema.js';

const client = clientIdentity('client');
const san = clientIdentity('client-san');
const unmapped = clientIdentity('client-unmapped');
const otherCa = clientIdentity('client-other-ca');
const selfSigned = clientIdentity('client-self-signed');

/**
 * A real HTTPS server asking for client certificates without refusing any (the listener's
 * `optional` mode), running the authenticator under test on each request's real TLS socket and
 * answering with its result as JSON.
 */
let server: Server;
let port = 0;
let current: Authenticator | undefined;
beforeAll(async () => {
  server = createServer(
    { cert: readFileSync(tlsFixture('server.pem')), key: readFileSync(tlsFixture('server.key')), ca: [readFileSync(tlsFixture('ca.pem'))], requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const ctx = new RequestContext(req, res, Date.now());
      ctx.protocol = 'https';
      Promise.resolve(current!.authenticate(ctx)).then(
        (result) => res.end(JSON.stringify(result)),
        (error: Error) => res.end(JSON.stringify({ kind: 'error', message: error.message })),
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

function setup(config: Record<string, unknown>, clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'))) {
  const raw = structuredClone(config);
  if (!configValidator(MtlsMethodSchema)(raw)) throw new Error('bad test config');
  const sqlite = SqliteStore.open({ path: ':memory:' });
  const state = new MemoryStateStore();
  const auth = createMtlsAuthenticator(raw as MtlsMethodConfig, makeDeps({ now: clock.now, store: async () => sqlite, state: async () => state }));
  open.push(sqlite, state, auth);
  current = auth;
  return { auth, sqlite, state, clock };
}

async function as(identity: ReturnType<typeof clientIdentity> | undefined): Promise<AuthResult> {
  const reply = await fetchOnce(port, '/', identity === undefined ? {} : { identity });
  return JSON.parse(reply.body) as AuthResult;
}

describe('mtls authenticator on a real TLS connection', () => {
  it('maps a certificate by subject DN and puts the verified certificate on the principal', async () => {
    setup({ mappings: [{ match: { subject: 'CN=portcullis-test-client' }, consumerId: 'orders-service', scopes: ['orders:read'] }] });
    const result = await as(client);
    expect(result).toMatchObject({ kind: 'authenticated', principal: { method: 'mtls', consumerId: 'orders-service', subject: 'orders-service', scopes: ['orders:read'] } });
    const { certificate } = (result as unknown as { principal: { certificate: Record<string, unknown> } }).principal;
    expect(certificate).toEqual({
      subject: 'CN=portcullis-test-client',
      issuer: 'CN=Portcullis Test CA',
      san: [],
      fingerprint256: client.fingerprint256,
      serialNumber: '1002',
      validTo: expect.stringMatching(/^2126-10-30T/),
    });
  });

  it('matches a multi-attribute subject in RFC 4514 order whatever the spacing, and not in certificate order', async () => {
    setup({ mappings: [{ match: { subject: 'cn=portcullis-san-client, o=Portcullis Tests' }, consumerId: 'san-by-dn' }] });
    const result = await as(san);
    expect(result).toMatchObject({ kind: 'authenticated', principal: { consumerId: 'san-by-dn', certificate: { subject: 'CN=portcullis-san-client,O=Portcullis Tests' } } });
    setup({ mappings: [{ match: { subject: 'O=Portcullis Tests,CN=portcullis-san-client' }, consumerId: 'reversed' }] });
    expect(await as(san)).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/mapped to no consumer/) });
  });

  it.each([
    ['DNS:Orders.Client.Test', 'dns'],
    ['URI:spiffe://portcullis.test/orders', 'uri'],
    ['email:ops@portcullis.test', 'email'],
  ])('maps a certificate by its SAN %s', async (name, consumerId) => {
    setup({ mappings: [{ match: { san: name }, consumerId }] });
    const result = await as(san);
    expect(result).toMatchObject({ kind: 'authenticated', principal: { consumerId, certificate: { san: ['DNS:orders.client.test', 'URI:spiffe://portcullis.test/orders', 'email:ops@portcullis.test'] } } });
  });

  it('maps a certificate with an empty subject (a SPIFFE X.509-SVID) by its URI SAN', async () => {
    setup({ mappings: [{ match: { subject: 'CN=portcullis-test-client' }, consumerId: 'other' }, { match: { san: 'URI:spiffe://portcullis.test/svid' }, consumerId: 'svid' }] });
    const result = await as(clientIdentity('client-spiffe'));
    expect(result).toMatchObject({ kind: 'authenticated', principal: { consumerId: 'svid', certificate: { subject: '', san: ['URI:spiffe://portcullis.test/svid'] } } });
  });

  it('maps by SHA-256 fingerprint, which wins over a subject mapping of the same certificate', async () => {
    setup({
      mappings: [
        { match: { subject: 'CN=portcullis-test-client' }, consumerId: 'by-subject' },
        { match: { fingerprint: client.fingerprint256.replaceAll(':', '').toLowerCase() }, consumerId: 'by-fingerprint', subject: 'pinned' },
      ],
    });
    expect(await as(client)).toMatchObject({ kind: 'authenticated', principal: { consumerId: 'by-fingerprint', subject: 'pinned' } });
  });

  it('honours an issuer pin: the right subject from the right CA only', async () => {
    setup({ mappings: [{ match: { subject: 'CN=portcullis-test-client', issuer: 'CN=Some Other CA' }, consumerId: 'pinned' }] });
    expect(await as(client)).toMatchObject({ kind: 'rejected' });
    setup({ mappings: [{ match: { subject: 'CN=portcullis-test-client', issuer: 'CN=Portcullis Test CA' }, consumerId: 'pinned' }] });
    expect(await as(client)).toMatchObject({ kind: 'authenticated', principal: { consumerId: 'pinned' } });
  });

  it('is not applicable without a client certificate', async () => {
    setup({ mappings: [{ match: { subject: 'CN=portcullis-test-client' }, consumerId: 'c' }] });
    expect(await as(undefined)).toEqual({ kind: 'not-applicable' });
  });

  it('rejects a certificate with the mapped subject from an untrusted CA, and a self-signed one', async () => {
    setup({ mappings: [{ match: { subject: 'CN=portcullis-test-client' }, consumerId: 'c' }] });
    expect(await as(otherCa)).toMatchObject({ kind: 'rejected', reason: 'mtls: client certificate did not verify (UNABLE_TO_VERIFY_LEAF_SIGNATURE)' });
    expect(await as(selfSigned)).toMatchObject({ kind: 'rejected', reason: 'mtls: client certificate did not verify (DEPTH_ZERO_SELF_SIGNED_CERT)' });
  });

  it('rejects a certificate from the trusted CA that is only good for servers (extendedKeyUsage serverAuth)', async () => {
    setup({ mappings: [{ match: { subject: 'CN=localhost' }, consumerId: 'c' }] });
    expect(await as(clientIdentity('server'))).toMatchObject({ kind: 'rejected', reason: 'mtls: client certificate did not verify (INVALID_PURPOSE)' });
  });

  it('rejects a verified certificate that no mapping names, with its fingerprint in the reason', async () => {
    setup({ mappings: [{ match: { subject: 'CN=portcullis-test-client' }, consumerId: 'c' }] });
    expect(await as(unmapped)).toMatchObject({ kind: 'rejected', reason: `mtls: certificate CN=portcullis-unmapped-client (SHA-256 ${unmapped.fingerprint256}) is mapped to no consumer` });
  });

  it('maps through Store credentials by fingerprint and by subject, caching per certificate', async () => {
    const { sqlite, auth } = setup({ store: true });
    const acme = await sqlite.consumers.create({ name: 'acme' });
    const beta = await sqlite.consumers.create({ name: 'beta' });
    const fp = san.fingerprint256.replaceAll(':', '').toLowerCase();
    const byFp = await sqlite.credentials.create({ consumerId: acme.id, type: 'mtls', lookupId: fingerprintLookupId(fp), secretHash: fingerprintLookupId(fp), scopes: ['a'] });
    const subjectId = subjectLookupId(dnKey('CN=portcullis-test-client'));
    await sqlite.credentials.create({ consumerId: beta.id, type: 'mtls', lookupId: subjectId, secretHash: subjectId, scopes: ['b'] });
    expect(await as(san)).toMatchObject({ kind: 'authenticated', principal: { consumerId: acme.id, scopes: ['a'], claims: { credentialId: byFp.id } } });
    expect(await as(client)).toMatchObject({ kind: 'authenticated', principal: { consumerId: beta.id, scopes: ['b'] } });
    expect(await as(unmapped)).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/mapped to no consumer/) });
    const before = (auth as MtlsAuthenticator).lookups();
    await as(san);
    await as(unmapped);
    expect((auth as MtlsAuthenticator).lookups()).toBe(before);
  });

  it('never maps a certificate with an empty subject through a Store subject credential', async () => {
    const { sqlite } = setup({ store: true });
    const acme = await sqlite.consumers.create({ name: 'acme' });
    const emptySubject = subjectLookupId(dnKey(''));
    await sqlite.credentials.create({ consumerId: acme.id, type: 'mtls', lookupId: emptySubject, secretHash: emptySubject });
    expect(await as(clientIdentity('client-spiffe'))).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/mapped to no consumer/) });
  });

  it('refuses a revoked Store credential at once when the revocation is broadcast', async () => {
    const { sqlite, state, clock } = setup({ store: true, cacheTtl: '1h' });
    const acme = await sqlite.consumers.create({ name: 'acme' });
    const lookupId = fingerprintLookupId(client.fingerprint256.replaceAll(':', '').toLowerCase());
    const credential = await sqlite.credentials.create({ consumerId: acme.id, type: 'mtls', lookupId, secretHash: lookupId });
    expect((await as(client)).kind).toBe('authenticated');
    await sqlite.credentials.revoke(credential.id, new Date(clock.now()));
    expect((await as(client)).kind).toBe('authenticated'); // still cached
    await state.publish(CREDENTIALS_CHANNEL, lookupId);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await as(client)).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/revoked$/) });
  });

  it('refuses at load a mapping with two matchers, an unknown SAN type, a duplicate, or nothing to map with', () => {
    const build = (config: Record<string, unknown>) => () => setup(config);
    expect(build({ mappings: [{ match: { subject: 'CN=a', san: 'DNS:a' } }] })).toThrow('mtls mappings[0].match: exactly one of subject, san, fingerprint is required (found 2)');
    expect(build({ mappings: [{ match: { san: 'otherName:x' } }] })).toThrow('mtls mappings[0].match: san "otherName:x": the type must be DNS, URI, email or IP');
    expect(build({ mappings: [{ match: { subject: 'CN=a' } }, { match: { subject: 'cn=a' } }] })).toThrow('mtls mappings[1].match: subject cn=a is mapped twice');
    expect(build({ mappings: [{ match: { subject: 'no equals sign' } }] })).toThrow(/mtls mappings\[0\]\.match: malformed DN/);
    expect(build({})).toThrow('mtls: no mappings and store: false');
  });
});

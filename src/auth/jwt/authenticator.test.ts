import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeContext } from '../../../test/helpers/context.js';
import { GatewayMetrics } from '../../observability/metrics.js';
import type { AuthResult } from '../authenticator.js';
import type { JwtAuthenticator } from './authenticator.js';
import { AUD, FakeClock, ISS, makeJwt, makeKey, sign, startJwksServer, type JwksServer, type TestKey } from './test-fixtures.js';

const run = (jwt: JwtAuthenticator, headers: Record<string, string>): Promise<AuthResult> => Promise.resolve(jwt.authenticate(makeContext({ headers })));
const bearer = (jwt: JwtAuthenticator, token: string) => run(jwt, { authorization: `Bearer ${token}` });

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of open.splice(0)) await item.close();
});

async function setup(keys: TestKey[], extra: object = {}, issuer: object = {}) {
  const clock = new FakeClock();
  const server = await startJwksServer(keys.map((k) => k.jwk));
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const jwt = makeJwt({ issuers: [{ issuer: ISS, audiences: [AUD], jwksUri: server.url, ...issuer }], ...extra }, clock, metrics);
  open.push(jwt, server);
  return { clock, server, jwt, metrics };
}

describe('jwt authenticator', () => {
  let keys: Record<string, TestKey>;
  beforeAll(async () => {
    const list = await Promise.all(['RS256', 'ES256', 'EdDSA', 'PS256'].map((alg) => makeKey(alg, `${alg}-kid`)));
    keys = Object.fromEntries(list.map((k) => [k.alg, k]));
  });

  it.each(['RS256', 'ES256', 'EdDSA', 'PS256'])('authenticates a %s token and builds the principal', async (alg) => {
    const { clock, jwt } = await setup(Object.values(keys));
    const result = await bearer(jwt, await sign(keys[alg]!, clock, { scope: 'read write' }));
    expect(result).toMatchObject({ kind: 'authenticated', principal: { method: 'jwt', subject: 'user-1', scopes: ['read', 'write'], consumerId: undefined } });
    if (result.kind === 'authenticated') expect(result.principal.claims?.iss).toBe(ISS);
  });

  it('is not applicable without an Authorization: Bearer header', async () => {
    const { jwt, server } = await setup([keys.RS256!]);
    expect((await run(jwt, {})).kind).toBe('not-applicable');
    expect((await run(jwt, { authorization: 'Basic dXNlcjpwYXNz' })).kind).toBe('not-applicable');
    expect((await run(jwt, { authorization: 'Bearerish x' })).kind).toBe('not-applicable');
    expect(server.hits).toBe(0);
    expect(jwt.challenge).toBe('Bearer realm="portcullis"');
  });

  it('rejects an empty or malformed Bearer credential', async () => {
    const { jwt } = await setup([keys.RS256!]);
    expect(await run(jwt, { authorization: 'Bearer' })).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/malformed Bearer/) });
    expect(await run(jwt, { authorization: 'Bearer a b' })).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/malformed Bearer/) });
  });

  it('accepts the scheme in any case (RFC 6750 §2.1) and reads a scp array', async () => {
    const { clock, jwt } = await setup([keys.RS256!]);
    const result = await run(jwt, { authorization: `bearer ${await sign(keys.RS256!, clock, { scp: ['a', 'b'] })}` });
    expect(result).toMatchObject({ kind: 'authenticated', principal: { scopes: ['a', 'b'] } });
  });

  it('selects the key by kid among several keys of one algorithm', async () => {
    const extra = await Promise.all([makeKey('RS256', 'r-a'), makeKey('RS256', 'r-b'), makeKey('RS256', 'r-c')]);
    const { clock, jwt } = await setup(extra);
    for (const key of extra) expect((await bearer(jwt, await sign(key, clock))).kind).toBe('authenticated');
    expect(jwt.verifier.signatureChecks).toBe(3);
  });

  it('re-fetches the JWKS once for an unknown kid, not again within minRefetchInterval', async () => {
    const { clock, server, jwt } = await setup([keys.RS256!]);
    await bearer(jwt, await sign(keys.RS256!, clock));
    expect(server.hits).toBe(1);
    const rotated = await makeKey('RS256', 'new-kid');
    server.keys = [keys.RS256!.jwk, rotated.jwk];
    clock.advance(31_000);
    expect((await bearer(jwt, await sign(rotated, clock))).kind).toBe('authenticated');
    expect(server.hits).toBe(2);
    const later = await makeKey('RS256', 'later-kid');
    server.keys.push(later.jwk);
    clock.advance(10_000);
    expect(await bearer(jwt, await sign(later, clock))).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/no RS256 key with kid "later-kid"/) });
    expect((await bearer(jwt, await sign(keys.RS256!, clock, { kid: 'x' }, { kid: 'other-unknown' }))).kind).toBe('rejected');
    expect(server.hits).toBe(2);
    clock.advance(30_000);
    expect((await bearer(jwt, await sign(later, clock))).kind).toBe('authenticated');
    expect(server.hits).toBe(3);
  });

  it('keeps verifying with cached keys while the JWKS endpoint is down; an unknown kid is then a rejection', async () => {
    const { clock, server, jwt, metrics } = await setup([keys.RS256!]);
    expect((await bearer(jwt, await sign(keys.RS256!, clock, { jti: '1' }))).kind).toBe('authenticated');
    server.failWith = 503;
    clock.advance(60_000);
    await jwt.verifier.compiled.issuers.get(ISS)!.jwks!.refresh();
    expect((await bearer(jwt, await sign(keys.RS256!, clock, { jti: '2' }))).kind).toBe('authenticated');
    const unknown = await makeKey('RS256', 'unknown');
    expect(await bearer(jwt, await sign(unknown, clock))).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/no RS256 key/) });
    expect(await metrics.registry.getSingleMetricAsString('portcullis_jwt_jwks_fetches_total')).toMatch(/outcome="error"} 1/);
  });

  it('rejects every token while the first JWKS fetch fails, without throwing', async () => {
    const { clock, server, jwt } = await setup([keys.RS256!]);
    server.failWith = 500;
    expect(await bearer(jwt, await sign(keys.RS256!, clock))).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/no RS256 key/) });
  });

  it('finds jwks_uri through OIDC discovery on first use, not at create', async () => {
    const clock = new FakeClock();
    const server = await startJwksServer([keys.ES256!.jwk]);
    const base = server.url.replace('/jwks.json', '');
    server.discovery = { issuer: ISS, jwks_uri: server.url };
    const jwt = makeJwt({ issuers: [{ issuer: ISS, audiences: [AUD], discovery: base }] }, clock);
    open.push(jwt, server);
    expect(server.hits).toBe(0);
    expect((await bearer(jwt, await sign(keys.ES256!, clock))).kind).toBe('authenticated');
    expect(server.hits).toBe(1);
  });

  it('requires typ at+jwt when configured, case-insensitively and with the application/ prefix', async () => {
    const { clock, jwt } = await setup([keys.RS256!], { requireType: 'at+jwt' });
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) {
      expect((await bearer(jwt, await sign(keys.RS256!, clock, { jti: typ }, { typ }))).kind).toBe('authenticated');
    }
    for (const typ of ['JWT', undefined]) {
      expect(await bearer(jwt, await sign(keys.RS256!, clock, {}, { typ }))).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/typ .* is not at\+jwt/) });
    }
  });

  it('answers a repeat token from the verified cache without verifying again', async () => {
    const { clock, jwt, metrics } = await setup([keys.RS256!]);
    const token = await sign(keys.RS256!, clock);
    await bearer(jwt, token);
    const result = jwt.authenticate(makeContext({ headers: { authorization: `Bearer ${token}` } }));
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toMatchObject({ kind: 'authenticated', principal: { subject: 'user-1' } });
    expect(jwt.verifier.signatureChecks).toBe(1);
    expect(jwt.cache.hits).toBe(1);
    expect(await metrics.registry.getSingleMetricAsString('portcullis_jwt_verified_cache_total')).toMatch(/result="hit"} 1/);
  });

  it('never serves a cached token past its exp (fake clock)', async () => {
    const { clock, jwt } = await setup([keys.RS256!], { clockSkew: '0s' });
    const token = await sign(keys.RS256!, clock, { exp: clock.seconds + 60 });
    expect((await bearer(jwt, token)).kind).toBe('authenticated');
    clock.advance(60_000);
    expect(await bearer(jwt, token)).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/token expired/) });
    expect(jwt.cache.hits).toBe(0);
  });

  it('bounds the cache (LRU) and its ttl', async () => {
    const { clock, jwt } = await setup([keys.RS256!], { cache: { maxEntries: 2, ttl: '10s' } });
    const tokens = await Promise.all(['a', 'b', 'c'].map((jti) => sign(keys.RS256!, clock, { jti })));
    for (const t of tokens) await bearer(jwt, t);
    expect(jwt.cache.size).toBe(2);
    await bearer(jwt, tokens[2]!);
    expect(jwt.cache.hits).toBe(1);
    clock.advance(10_000);
    await bearer(jwt, tokens[2]!);
    expect(jwt.cache.hits).toBe(1);
    expect(jwt.verifier.signatureChecks).toBe(4);
  });

  it('verifies HS256 only with a configured secret issuer', async () => {
    const clock = new FakeClock();
    const secret = 'a-very-long-shared-secret-of-32+bytes!';
    const jwt = makeJwt({ issuers: [{ issuer: ISS, audiences: [AUD], secret, algorithms: ['HS256'] }] }, clock);
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({ iss: ISS, aud: AUD, sub: 's', exp: clock.seconds + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(Buffer.from(secret));
    expect((await bearer(jwt, token)).kind).toBe('authenticated');
    expect((await bearer(jwt, await sign(keys.RS256!, clock))).kind).toBe('rejected');
  });

  it('refuses bad issuer configs at load', () => {
    const clock = new FakeClock();
    const base = { issuer: ISS, audiences: [AUD] };
    expect(() => makeJwt({ issuers: [base] }, clock)).toThrow(/exactly one of jwksUri, discovery, staticKeys, secret/);
    expect(() => makeJwt({ issuers: [{ ...base, jwksUri: 'http://a.example/j', secret: 'x'.repeat(32) }] }, clock)).toThrow(/exactly one/);
    expect(() => makeJwt({ issuers: [{ ...base, secret: 'x'.repeat(32) }] }, clock)).toThrow(/a secret allows only HS256/);
    expect(() => makeJwt({ issuers: [{ ...base, secret: 'x'.repeat(40), algorithms: ['HS512'] }] }, clock)).toThrow(/HS512 needs a secret of at least 64 bytes/);
    expect(() => makeJwt({ issuers: [{ ...base, secret: 'short', algorithms: ['HS256'] }] }, clock)).toThrow(/invalid jwt config/);
    expect(() => makeJwt({ issuers: [{ ...base, jwksUri: 'http://keys.example/jwks' }] }, clock)).toThrow(/need https/);
    expect(() => makeJwt({ issuers: [{ ...base, jwksUri: 'https://a/j', algorithms: ['none'] }] }, clock)).toThrow(/invalid jwt config/);
    expect(() => makeJwt({ issuers: [{ ...base, staticKeys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'x' }] }] }, clock)).toThrow(/invalid jwt config/);
  });

  it('verifies with static keys given as PEM or JWK', async () => {
    const clock = new FakeClock();
    const jwt = makeJwt({ issuers: [{ issuer: ISS, audiences: [AUD], staticKeys: [keys.RS256!.pem, keys.ES256!.jwk] }] }, clock);
    expect((await bearer(jwt, await sign(keys.RS256!, clock))).kind).toBe('authenticated');
    expect((await bearer(jwt, await sign(keys.ES256!, clock))).kind).toBe('authenticated');
  });
});

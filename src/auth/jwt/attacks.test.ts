import { createHmac, createPublicKey, verify } from 'node:crypto';
import { compactVerify, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContext } from '../../../test/helpers/context.js';
import type { AuthResult } from '../authenticator.js';
import type { JwtAuthenticator } from './authenticator.js';
import { AUD, claimsAt, FakeClock, forge, ISS, makeJwt, makeKey, sign, signRaw, startJwksServer, type JwksServer, type TestKey } from './test-fixtures.js';

const bearer = (jwt: JwtAuthenticator, token: string): Promise<AuthResult> =>
  Promise.resolve(jwt.authenticate(makeContext({ headers: { authorization: `Bearer ${token}` } })));

async function expectRejected(jwt: JwtAuthenticator, token: string, reason: RegExp): Promise<void> {
  const result = await bearer(jwt, token);
  expect(result.kind).toBe('rejected');
  if (result.kind === 'rejected') expect(result.reason).toMatch(reason);
}

describe('jwt authenticator refuses every attack of the issue', () => {
  const clock = new FakeClock();
  let rsa: TestKey;
  let ec: TestKey;
  let attacker: TestKey;
  let server: JwksServer;
  let attackerServer: JwksServer;
  let jwt: JwtAuthenticator;

  beforeAll(async () => {
    [rsa, ec, attacker] = await Promise.all([makeKey('RS256', 'rsa-1'), makeKey('ES256', 'ec-1'), makeKey('RS256', 'rsa-1')]);
    server = await startJwksServer([rsa.jwk, ec.jwk]);
    attackerServer = await startJwksServer([attacker.jwk]);
    jwt = makeJwt({ issuers: [{ issuer: ISS, audiences: [AUD], jwksUri: server.url }] }, clock);
    // Sanity: the honest token passes, so every rejection below is about the attack.
    expect((await bearer(jwt, await sign(rsa, clock))).kind).toBe('authenticated');
  });
  afterAll(async () => {
    jwt.close();
    await Promise.all([server.close(), attackerServer.close()]);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %s with an empty or any signature', async (alg) => {
    await expectRejected(jwt, forge({ alg, kid: 'rsa-1' }, claimsAt(clock)), /malformed base64url/);
    await expectRejected(jwt, forge({ alg, kid: 'rsa-1' }, claimsAt(clock), Buffer.from('x')), new RegExp(`alg "${alg}" refused`));
  });

  it('refuses HS256 signed with the RSA public key (PEM bytes) as the HMAC secret', async () => {
    const header = { alg: 'HS256', kid: 'rsa-1' };
    const unsigned = forge(header, claimsAt(clock)).slice(0, -1);
    const mac = createHmac('sha256', rsa.pem).update(unsigned).digest();
    await expectRejected(jwt, `${unsigned}.${mac.toString('base64url')}`, /alg "HS256" not allowed/);
    expect(jwt.verifier.signatureChecks).toBeGreaterThan(0);
  });

  it('refuses HS256 in the allow list of a public-key issuer at load', () => {
    expect(() => makeJwt({ issuers: [{ issuer: ISS, audiences: [AUD], jwksUri: server.url, algorithms: ['RS256', 'HS256'] }] }, clock)).toThrow(
      /HS256 need a secret and cannot be used with public keys/,
    );
  });

  it.each(['../../dev/null', "' OR 1=1 --", '/etc/passwd', '__proto__', 'constructor'])('treats kid %s as a plain map key: no key found', async (kid) => {
    const before = jwt.verifier.signatureChecks;
    await expectRejected(jwt, await sign(attacker, clock, {}, { kid }), /no RS256 key with kid/);
    expect(jwt.verifier.signatureChecks).toBe(before);
  });

  it.each(['jku', 'x5u'])('refuses a %s header pointing at the attacker key set, never fetching it', async (name) => {
    const hits = attackerServer.hits;
    await expectRejected(jwt, await sign(attacker, clock, {}, { [name]: attackerServer.url }), new RegExp(`header ${name} present`));
    expect(attackerServer.hits).toBe(hits);
  });

  it('refuses an embedded jwk header carrying the attacker key', async () => {
    await expectRejected(jwt, await sign(attacker, clock, {}, { jwk: attacker.jwk }), /header jwk present/);
  });

  it('does not verify the attacker key under a kid it shares with ours', async () => {
    await expectRejected(jwt, await sign(attacker, clock), /signature invalid/);
  });

  it('refuses a wrong iss, including near misses', async () => {
    await expectRejected(jwt, await sign(rsa, clock, { iss: 'https://evil.example' }), /unknown issuer "https:\/\/evil.example"/);
    await expectRejected(jwt, await sign(rsa, clock, { iss: `${ISS}/` }), /unknown issuer/);
  });

  it('refuses a wrong or missing aud', async () => {
    await expectRejected(jwt, await sign(rsa, clock, { aud: 'https://other.example' }), /aud "https:\/\/other.example" not accepted/);
    await expectRejected(jwt, await sign(rsa, clock, { aud: ['a', 'b'] }), /aud "a b" not accepted/);
    await expectRejected(jwt, await sign(rsa, clock, { aud: undefined }), /aud missing/);
  });

  it('refuses an expired token beyond the clock skew, accepts within it', async () => {
    const t = clock.seconds;
    await expectRejected(jwt, await sign(rsa, clock, { iat: t - 600, exp: t - 31 }), /token expired/);
    expect((await bearer(jwt, await sign(rsa, clock, { iat: t - 600, exp: t - 29 }))).kind).toBe('authenticated');
  });

  it('refuses a token not yet valid and one issued in the future', async () => {
    const t = clock.seconds;
    await expectRejected(jwt, await sign(rsa, clock, { nbf: t + 60 }), /not valid before/);
    await expectRejected(jwt, await sign(rsa, clock, { iat: t + 60, exp: t + 600 }), /issued in the future/);
  });

  it('refuses a token without exp (required by default)', async () => {
    await expectRejected(jwt, await sign(rsa, clock, { exp: undefined }), /required claim exp missing/);
  });

  it('refuses ES256 with r = s = 0 (CVE-2022-21449), as Node and jose do', async () => {
    const zero = Buffer.alloc(64);
    const token = forge({ alg: 'ES256', kid: 'ec-1' }, claimsAt(clock), zero);
    await expectRejected(jwt, token, /signature invalid/);
    const input = Buffer.from(token.slice(0, token.lastIndexOf('.')));
    const key = createPublicKey({ key: ec.jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    expect(verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, zero)).toBe(false);
    await expect(compactVerify(token, await importJWK(ec.jwk, 'ES256'))).rejects.toThrow(/signature verification failed/);
  });

  it('refuses malformed base64url before parsing', async () => {
    const good = await sign(rsa, clock);
    const [h, p, s] = good.split('.') as [string, string, string];
    await expectRejected(jwt, `${h}=.${p}.${s}`, /malformed base64url/);
    await expectRejected(jwt, `${h}.${p.replace(/^./, '+')}.${s}`, /malformed base64url/);
    await expectRejected(jwt, `${h}.${p}.${s}AAA`, /malformed base64url/);
    // Non-canonical: the unused low bits of the last character are set (RFC 4648 §3.5).
    await expectRejected(jwt, `${h}.${p}.${s}B`, /malformed base64url/);
    await expectRejected(jwt, `${h}.${p}`, /three segments/);
    await expectRejected(jwt, `${h}.${p}.${s}.x.y`, /JWE tokens are not accepted/);
    await expectRejected(jwt, `${Buffer.from('[1]').toString('base64url')}.${p}.${s}`, /header is not a JSON object/);
  });

  it('refuses an oversized token before hashing or parsing', async () => {
    const before = jwt.cache.misses;
    await expectRejected(jwt, await sign(rsa, clock, { pad: 'x'.repeat(9000) }), /over the limit/);
    expect(jwt.cache.misses).toBe(before);
  });

  it('refuses unknown crit headers and b64', async () => {
    const claims = claimsAt(clock);
    await expectRejected(jwt, signRaw(rsa, { alg: 'RS256', kid: 'rsa-1', crit: ['x-custom'], 'x-custom': 1 }, claims), /crit header/);
    await expectRejected(jwt, signRaw(rsa, { alg: 'RS256', kid: 'rsa-1', crit: ['b64'], b64: true }, claims), /crit header/);
    await expectRejected(jwt, signRaw(rsa, { alg: 'RS256', kid: 'rsa-1', crit: [] }, claims), /crit header/);
    // The same token without crit is fine: the refusal is about crit alone.
    expect((await bearer(jwt, signRaw(rsa, { alg: 'RS256', kid: 'rsa-1' }, claims))).kind).toBe('authenticated');
  });

  it('refuses an algorithm outside the allow list even with a fitting key', async () => {
    const rs384 = await makeKey('RS384', 'rs384');
    await expectRejected(jwt, await sign(rs384, clock), /alg "RS384" not allowed/);
  });

  it('refuses a token signed by a key rotated out of the JWKS, after the next refresh', async () => {
    const token = await sign(rsa, clock, { jti: 'rotation' });
    expect((await bearer(jwt, token)).kind).toBe('authenticated');
    const next = await makeKey('RS256', 'rsa-2');
    server.keys = [next.jwk, ec.jwk];
    await jwt.verifier.compiled.issuers.get(ISS)!.jwks!.refresh();
    await expectRejected(jwt, token, /no RS256 key with kid "rsa-1"/);
    await expectRejected(jwt, await sign(rsa, clock, { jti: 'fresh' }), /no RS256 key with kid "rsa-1"/);
    expect((await bearer(jwt, await sign(next, clock))).kind).toBe('authenticated');
  });
});

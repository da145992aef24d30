import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { AUD, FakeClock, ISS, makeKey, sign, startJwksServer, type JwksServer, type TestKey } from '../../src/auth/jwt/test-fixtures.js';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/** The authenticate policy with a real JWT method, a real JWKS server and a real upstream. */
describe('a route protected by authenticate (jwt)', () => {
  let upstream: EchoUpstream;
  let jwks: JwksServer;
  let key: TestKey;
  let gw: TestGateway;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    key = await makeKey('RS256', 'k1');
    jwks = await startJwksServer([key.jwk]);
    gw = await startGateway(
      basicConfig(`    policies:
      - name: authenticate
        config:
          methods:
            - type: jwt
              config:
                issuers:
                  - issuer: "${ISS}"
                    audiences: ["${AUD}"]
                    jwksUri: "${jwks.url}"
`),
      { upstreamUrl: upstream.url },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    await jwks.close();
  });

  it('forwards a valid token with the caller identity, and strips identity headers the client sent', async () => {
    const token = await sign(key, clock, { sub: 'alice', scope: 'orders:read orders:write' });
    const res = await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${token}`, 'x-auth-subject': 'admin', 'x-consumer-id': 'root' } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const seen = upstream.seen.at(-1)!.headers;
    expect(seen['x-auth-subject']).toBe('alice');
    expect(seen['x-auth-scopes']).toBe('orders:read orders:write');
    expect(seen['x-auth-method']).toBe('jwt');
    expect(seen['x-consumer-id']).toBeUndefined();
  });

  it('answers 401 GW_AUTHN_REQUIRED with a Bearer challenge when no token is sent, never reaching the upstream', async () => {
    const before = upstream.seen.length;
    const res = await request(`${gw.url}/orders`, { headers: { 'x-auth-subject': 'admin' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="portcullis"');
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body.code).toBe('GW_AUTHN_REQUIRED');
    expect(upstream.seen.length).toBe(before);
  });

  it('answers 401 GW_AUTHN_INVALID, vague to the client and precise in the log, for a token from another key', async () => {
    const stranger = await makeKey('RS256', 'k1');
    const forged = await sign(stranger, clock, { sub: 'mallory' });
    const res = await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${forged}` } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="portcullis", error="invalid_token"');
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body.code).toBe('GW_AUTHN_INVALID');
    expect(JSON.stringify(body)).not.toMatch(/signature|kid|key/i);
    await expect.poll(() => gw.logs.access().at(-1)).toMatchObject({ status: 401, policy: 'authenticate', code: 'GW_AUTHN_INVALID' });
    expect(String(gw.logs.access().at(-1)!.reason)).toMatch(/^jwt: /);
  });

  it('refuses an expired token', async () => {
    const old = new FakeClock(Date.now() - 3_600_000);
    const res = await request(`${gw.url}/orders`, { headers: { authorization: `Bearer ${await sign(key, old)}` } });
    expect(res.statusCode).toBe(401);
    await res.body.dump();
  });
});

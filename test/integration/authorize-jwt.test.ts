import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { AUD, FakeClock, ISS, makeKey, sign, startJwksServer, type JwksServer, type TestKey } from '../../src/auth/jwt/test-fixtures.js';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/** authorize on JWT claims: two real tokens from a real JWKS, the same object, a real gateway. */
describe('authorize with JWT claims through a real gateway', () => {
  let upstream: EchoUpstream;
  let jwks: JwksServer;
  let key: TestKey;
  let gw: TestGateway;
  const clock = new FakeClock(Date.now());

  const route = (name: string, path: string, authorize: string) => `  - name: ${name}
    match: { paths: ["${path}"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: jwt, config: { issuers: [{ issuer: "${ISS}", audiences: ["${AUD}"], jwksUri: "${jwks.url}" }] } }] }
      - name: authorize
${authorize}
`;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    key = await makeKey('RS256', 'k1');
    jwks = await startJwksServer([key.jwk]);
    const projects = route(
      'projects',
      '/projects/{owner}/*',
      `        config:
          claims: { scopes: [scope, scp], groups: [realm_access.roles] }
          rules:
            - { name: support, groups: [support], methods: [GET] }
            - { name: members, scopes: [projects:read], when: 'principal.claims.email_verified == true' }
          ownership: { bindings: [{ name: own-project, source: param, field: owner, unlessGroups: [support] }] }`,
    );
    const trial = route('trial', '/trial/*', `        mode: monitor\n        config: { rules: [{ name: nobody, groups: [nobody] }] }`);
    gw = await startGateway(basicConfig().replace('routes:\n', `routes:\n${projects}${trial}`), { upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
    await jwks.close();
  });

  const get = async (path: string, claims: Record<string, unknown>) => {
    const token = await sign(key, clock, claims);
    const res = await request(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.body.json()) as Record<string, unknown>;
    return { status: res.statusCode, code: body.code, reason: gw.logs.access().at(-1)!.reason };
  };

  it('lets each token reach its own project and refuses the other (BOLA by sub)', async () => {
    const alice = { sub: 'alice', scope: 'projects:read', email_verified: true };
    const bob = { sub: 'bob', scp: ['projects:read'], email_verified: true };
    expect((await get('/projects/alice/1', alice)).status).toBe(200);
    expect((await get('/projects/bob/1', bob)).status).toBe(200);
    const before = upstream.seen.length;
    expect(await get('/projects/bob/1', alice)).toEqual({ status: 403, code: 'GW_AUTHZ_DENIED', reason: 'binding "own-project": param owner does not belong to the principal' });
    expect((await get('/projects/alice/1', bob)).status).toBe(403);
    expect(upstream.seen.length).toBe(before);
  });

  it('denies a token whose claim is missing or of the wrong type, naming the rule only in the log', async () => {
    expect(await get('/projects/alice/1', { sub: 'alice', scope: 'projects:read' })).toMatchObject({ status: 403, reason: expect.stringMatching(/^rule "members" could not be evaluated/) });
    expect((await get('/projects/alice/1', { sub: 'alice', scope: 'projects:read', email_verified: 'true' })).status).toBe(403);
  });

  it('reads Keycloak realm_access.roles and lets support read any project, but not write', async () => {
    const support = { sub: 'sam', realm_access: { roles: ['support'] } };
    expect((await get('/projects/alice/1', support)).status).toBe(200);
    expect(upstream.seen.at(-1)!.headers['x-authz-groups']).toBe('support');
    const token = await sign(key, clock, support);
    const write = await request(`${gw.url}/projects/alice/1`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
    expect(write.statusCode).toBe(403);
    await write.body.dump();
  });

  it('in monitor mode lets the request through and logs what it would have denied', async () => {
    const res = await get('/trial/x', { sub: 'alice' });
    expect(res.status).toBe(200);
    expect(gw.logs.access().at(-1)!.monitor).toEqual([{ policy: 'authorize', code: 'GW_AUTHZ_DENIED', reason: 'no rule allowed the request' }]);
    expect(upstream.seen.at(-1)!.headers['x-authz-rule']).toBeUndefined();
  });
});

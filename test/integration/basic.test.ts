import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { hashPassword } from '../../src/auth/basic/password.js';
import type { EchoUpstream, TestGateway } from '../helpers/servers.js';
import { startStoreGateway, type StoreGateway } from '../helpers/store-gateway.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

/** The authenticate policy with the basic method, a real SQLite file store and a real upstream. */
describe('a route protected by authenticate (basic)', () => {
  let env: StoreGateway;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  let consumerId: string;

  beforeAll(async () => {
    env = await startStoreGateway(
      'pcl-basic-',
      async (store) => {
        const consumer = await store.consumers.create({ name: 'legacy' });
        consumerId = consumer.id;
        await store.credentials.create({ consumerId, type: 'basic', lookupId: 'alice', secretHash: await hashPassword('s3cret pässword'), scopes: ['orders:read'] });
      },
      `  - name: legacy
    match: { paths: ["/legacy/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config:
          methods:
            - type: basic
`,
    );
    ({ upstream, gw } = env);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('forwards with the identity and strips Authorization before the upstream', async () => {
    const authorization = basic('alice', 's3cret pässword');
    const res = await request(`${gw.url}/legacy/1`, { headers: { authorization } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['authorization']).toBeUndefined();
    expect(seen.headers['x-consumer-id']).toBe(consumerId);
    expect(seen.headers['x-auth-subject']).toBe('alice');
    expect(seen.headers['x-auth-method']).toBe('basic');
    expect(seen.headers['x-auth-scopes']).toBe('orders:read');
    expect(JSON.stringify(seen.rawHeaders)).not.toContain(authorization.slice(6));
  });

  it('answers 401 with the Basic challenge for no, wrong, unknown and malformed credentials', async () => {
    const before = upstream.seen.length;
    for (const [authorization, code] of [
      [undefined, 'GW_AUTHN_REQUIRED'],
      [basic('alice', 'wrong'), 'GW_AUTHN_INVALID'],
      [basic('nobody', 'wrong'), 'GW_AUTHN_INVALID'],
      ['Basic not*base64', 'GW_AUTHN_INVALID'],
    ] as const) {
      const res = await request(`${gw.url}/legacy/1`, { headers: authorization === undefined ? {} : { authorization } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="portcullis", charset="UTF-8"');
      expect(((await res.body.json()) as { code: string }).code).toBe(code);
    }
    expect(upstream.seen.length).toBe(before);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { generateApiKey, hashApiKey } from '../../src/auth/api-key/format.js';
import type { EchoUpstream, TestGateway } from '../helpers/servers.js';
import { startStoreGateway, type StoreGateway } from '../helpers/store-gateway.js';

/** Credential stuffing against the api-key method from one client IP, with the default lockout. */
describe('authenticate lockout (api-key, defaults)', () => {
  let env: StoreGateway;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  let key: string;

  beforeAll(async () => {
    env = await startStoreGateway(
      'pcl-lockout-',
      async (store) => {
        const consumer = await store.consumers.create({ name: 'acme' });
        const generated = generateApiKey();
        key = generated.key;
        await store.credentials.create({ consumerId: consumer.id, type: 'api-key', lookupId: generated.keyId, secretHash: hashApiKey(key), scopes: ['orders:read'] });
      },
      `  - name: keys
    match: { paths: ["/orders/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config:
          methods:
            - type: api-key
`,
    );
    ({ upstream, gw } = env);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('locks out a client IP stuffing keys within the threshold, then refuses even a valid key with 429', async () => {
    const before = upstream.seen.length;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await request(`${gw.url}/orders/1`, { headers: { 'x-api-key': generateApiKey().key } });
      statuses.push(res.statusCode);
      await res.body.dump();
    }
    expect(statuses).toEqual([...Array(9).fill(401), 429]);

    const res = await request(`${gw.url}/orders/1`, { headers: { 'x-api-key': key } });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toMatch(/^(29|30)$/);
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body.code).toBe('GW_AUTHN_LOCKED');
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|lockout:/);
    expect(upstream.seen.length).toBe(before);

    await expect.poll(() => gw.logs.access().at(-1)).toMatchObject({ status: 429, policy: 'authenticate', code: 'GW_AUTHN_LOCKED' });
    expect(String(gw.logs.access().at(-1)!.reason)).toMatch(/^lockout: client IP 127\.0\.0\.1 locked out for \d+s \(level 1\)$/);
  });
});

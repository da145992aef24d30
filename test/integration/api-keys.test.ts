import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { generateApiKey, hashApiKey } from '../../src/auth/api-key/format.js';
import type { EchoUpstream, TestGateway } from '../helpers/servers.js';
import { startStoreGateway, type StoreGateway } from '../helpers/store-gateway.js';

/** The authenticate policy with the api-key method, a real SQLite file store and a real upstream. */
describe('a route protected by authenticate (api-key)', () => {
  let env: StoreGateway;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  let key: string;
  let consumerId: string;

  beforeAll(async () => {
    const route = (name: string, path: string, extra: string) => `  - name: ${name}
    match: { paths: ["${path}"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config:
          methods:
            - type: api-key
              config: { ${extra} }
`;
    env = await startStoreGateway(
      'pcl-apikeys-',
      async (store) => {
        const consumer = await store.consumers.create({ name: 'acme' });
        consumerId = consumer.id;
        const generated = generateApiKey();
        key = generated.key;
        await store.credentials.create({ consumerId, type: 'api-key', lookupId: generated.keyId, secretHash: hashApiKey(key), scopes: ['orders:read'] });
      },
      `${route('keys', '/orders/*', '')}${route('query', '/legacy/*', 'queryParameter: api_key')}`,
    );
    ({ upstream, gw } = env);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('forwards with the consumer identity and never passes the key header upstream', async () => {
    const res = await request(`${gw.url}/orders/1`, { headers: { 'x-api-key': key } });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['x-api-key']).toBeUndefined();
    expect(seen.headers['x-consumer-id']).toBe(consumerId);
    expect(seen.headers['x-auth-scopes']).toBe('orders:read');
    expect(seen.headers['x-auth-method']).toBe('api-key');
    expect(JSON.stringify(seen.rawHeaders)).not.toContain(key);
  });

  it('answers 401 GW_AUTHN_INVALID for a forged key and GW_AUTHN_REQUIRED for a key in the query string', async () => {
    const before = upstream.seen.length;
    const forged = await request(`${gw.url}/orders/1`, { headers: { 'x-api-key': generateApiKey().key } });
    expect(forged.statusCode).toBe(401);
    expect(((await forged.body.json()) as { code: string }).code).toBe('GW_AUTHN_INVALID');
    const inQuery = await request(`${gw.url}/orders/1?api_key=${key}`);
    expect(inQuery.statusCode).toBe(401);
    expect(((await inQuery.body.json()) as { code: string }).code).toBe('GW_AUTHN_REQUIRED');
    expect(upstream.seen.length).toBe(before);
  });

  it('accepts the key from the query string on a route that opts in, and removes it before forwarding', async () => {
    const res = await request(`${gw.url}/legacy/x?a=1&api_key=${key}`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(upstream.seen.at(-1)!.url).toBe('/legacy/x?a=1');
  });
});

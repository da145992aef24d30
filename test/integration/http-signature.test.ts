import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { EchoUpstream, TestGateway } from '../helpers/servers.js';
import { startStoreGateway, type StoreGateway } from '../helpers/store-gateway.js';

/** The authenticate policy with the http-signature method, a real SQLite store and a real upstream. */
describe('a route protected by authenticate (http-signature)', () => {
  let env: StoreGateway;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  let consumerId: string;
  const keys = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    env = await startStoreGateway(
      'pcl-httpsig-',
      async (store) => {
        consumerId = (await store.consumers.create({ name: 'acme' })).id;
        const spki = keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
        await store.credentials.create({ consumerId, type: 'hmac', lookupId: 'acme-ed', secretHash: `ed25519:${spki}`, scopes: ['orders:write'] });
      },
      `  - name: signed
    match: { paths: ["/orders/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config:
          methods:
            - type: http-signature
              config: {}
`,
    );
    ({ upstream, gw } = env);
  });
  afterAll(async () => {
    await env?.close();
  });

  function signedPost(path: string, body: Buffer, sentBody = body) {
    const authority = new URL(gw.url).host;
    const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
    const params = `("@method" "@target-uri" "content-digest");created=${Math.floor(Date.now() / 1000)};keyid="acme-ed";nonce="${randomBytes(16).toString('base64url')}";alg="ed25519"`;
    const base = `"@method": POST\n"@target-uri": http://${authority}${path}\n"content-digest": ${digest}\n"@signature-params": ${params}`;
    const signature = sign(null, Buffer.from(base), keys.privateKey).toString('base64');
    return request(`${gw.url}${path}`, {
      method: 'POST',
      body: sentBody,
      headers: { 'content-type': 'application/json', 'content-digest': digest, 'signature-input': `sig1=${params}`, signature: `sig1=:${signature}:` },
    });
  }

  it('forwards a signed POST with its body intact and the consumer identity', async () => {
    const body = Buffer.from(JSON.stringify({ order: 42, note: 'x'.repeat(5000) }));
    const res = await signedPost('/orders/new?draft=1', body);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const seen = upstream.seen.at(-1)!;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/orders/new?draft=1');
    expect(seen.body.equals(body)).toBe(true);
    expect(seen.headers['x-consumer-id']).toBe(consumerId);
    expect(seen.headers['x-auth-method']).toBe('http-signature');
  });

  it('answers 401 for a body that does not match its signed Content-Digest, and for no signature at all', async () => {
    const before = upstream.seen.length;
    const tampered = await signedPost('/orders/new', Buffer.from('{"amount":1}'), Buffer.from('{"amount":9}'));
    expect(tampered.statusCode).toBe(401);
    expect(((await tampered.body.json()) as { code: string }).code).toBe('GW_AUTHN_INVALID');
    const unsigned = await request(`${gw.url}/orders/new`, { method: 'POST', body: '{}' });
    expect(unsigned.statusCode).toBe(401);
    expect(((await unsigned.body.json()) as { code: string }).code).toBe('GW_AUTHN_REQUIRED');
    expect(upstream.seen.length).toBe(before);
  });
});

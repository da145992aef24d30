import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

describe('forwarding headers behind a trusted proxy', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    // The test client (127.0.0.1) plays the trusted load balancer.
    const yaml = basicConfig(`    policies:
      - name: ip-restriction
        config: { deny: ["198.51.100.0/24"] }
`).replace('listeners: [{ host: 127.0.0.1, port: 0 }]', 'listeners: [{ host: 127.0.0.1, port: 0 }]\n  trustedProxies: ["127.0.0.1/32"]');
    gw = await startGateway(yaml, { upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('extends X-Forwarded-For and Forwarded and keeps the proxy request id', async () => {
    const res = await request(`${gw.url}/x`, {
      headers: { 'x-forwarded-for': '203.0.113.5', forwarded: 'for=203.0.113.5', 'x-request-id': 'lb-abc-123', 'x-forwarded-proto': 'https' },
    });
    await res.body.dump();
    const seen = upstream.seen.at(-1)!.headers;
    expect(seen['x-forwarded-for']).toBe('203.0.113.5, 127.0.0.1');
    expect(seen.forwarded).toMatch(/^for=203\.0\.113\.5, for=127\.0\.0\.1;proto=http;host="127\.0\.0\.1:\d+"$/);
    expect(seen['x-request-id']).toBe('lb-abc-123');
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(res.headers['x-request-id']).toBe('lb-abc-123');
  });

  it('applies IP policies to the client the trusted proxy reports', async () => {
    const res = await request(`${gw.url}/x`, { headers: { 'x-forwarded-for': '198.51.100.7' } });
    expect(res.statusCode).toBe(403);
    expect(((await res.body.json()) as { code: string }).code).toBe('GW_IP_DENIED');
    await new Promise((r) => setTimeout(r, 10));
    expect(gw.logs.access().at(-1)).toMatchObject({ client_ip: '198.51.100.7', policy: 'ip-restriction' });
  });

  it('replaces a request id that is not a safe token', async () => {
    const res = await request(`${gw.url}/x`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    await res.body.dump();
    expect(upstream.seen.at(-1)!.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

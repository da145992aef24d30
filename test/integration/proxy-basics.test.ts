import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

describe('proxying through a bare route', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    gw = await startGateway(
      basicConfig().replace('paths: ["/*"]', 'paths: ["/things/*", "/hello"]') +
        `  - name: api
    match: { paths: ["/api/*"], methods: [GET, POST] }
    forward: { upstream: up, stripPrefix: /api, addPrefix: /v2 }
  - name: user
    match: { paths: ["/users/{id}"] }
    forward: { upstream: up }
`,
      { upstreamUrl: upstream.url },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('forwards method, path, query and body, and returns the upstream response', async () => {
    const res = await request(`${gw.url}/things/1?a=b&c=%20d`, { method: 'PUT', body: 'hello', headers: { 'x-custom': 'v' } });
    expect(res.statusCode).toBe(200);
    await res.body.json();
    const seen = upstream.seen.at(-1)!;
    expect(seen.method).toBe('PUT');
    expect(seen.url).toBe('/things/1?a=b&c=%20d');
    expect(seen.body.toString()).toBe('hello');
    expect(seen.headers['x-custom']).toBe('v');
  });

  it('strips and adds prefixes on the way upstream', async () => {
    const res = await request(`${gw.url}/api/orders?x=1`);
    await res.body.dump();
    expect(upstream.seen.at(-1)!.url).toBe('/v2/orders?x=1');
    const bare = await request(`${gw.url}/api`);
    await bare.body.dump();
    expect(upstream.seen.at(-1)!.url).toBe('/v2/');
  });

  it('answers 405 problem+json with Allow when the path exists for other methods', async () => {
    const res = await request(`${gw.url}/api/orders`, { method: 'DELETE' });
    expect(res.statusCode).toBe(405);
    expect(res.headers['content-type']).toBe('application/problem+json');
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body.code).toBe('GW_METHOD_NOT_ALLOWED');
    expect(String(res.headers.allow).split(', ').sort()).toEqual(['GET', 'POST']);
  });

  it('sets X-Forwarded-For, Forwarded and a request id, and echoes the id to the client', async () => {
    const res = await request(`${gw.url}/hello`, { headers: { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6', 'x-request-id': 'spoofed' } });
    await res.body.dump();
    const seen = upstream.seen.at(-1)!;
    // The client is not a trusted proxy: its forwarding headers and request id are replaced, not extended.
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers.forwarded).toMatch(/^for=127\.0\.0\.1;proto=http;host="127\.0\.0\.1:\d+"$/);
    expect(seen.headers['x-request-id']).not.toBe('spoofed');
    expect(seen.headers['x-request-id']).toBe(res.headers['x-request-id']);
  });

  it('writes one access log line per request with route, status and decision', async () => {
    const before = gw.logs.access().length;
    const res = await request(`${gw.url}/users/42`);
    await res.body.dump();
    await new Promise((r) => setTimeout(r, 20));
    const lines = gw.logs.access().slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ route: 'user', status: 200, method: 'GET', path: '/users/42', decision: 'allow', client_ip: '127.0.0.1' });
  });
});

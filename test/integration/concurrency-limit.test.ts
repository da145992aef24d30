import { connect, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get as httpGet } from 'node:http';
import { request } from 'undici';
import { basicConfig, deadPort, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

const ROUTE_CAP_1 = `    policies:
      - name: concurrency-limit
        config: { limits: [{ key: route, max: 1 }], retryAfter: 2 }
`;

async function get(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  const res = await request(url);
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A request on its own raw socket, so the test can cut it like a client that goes away. */
function rawGet(port: number, path: string): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  return socket;
}

/** Status of a GET sent from `localAddress` (undici's Agent does not bind a local address; node:http does). */
function statusFrom(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path: '/x', localAddress, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('concurrency-limit through the gateway', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway | undefined;
  /** Requests to /hold wait here until the test answers them. */
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    upstream = await startUpstreamEcho((req, res) => (req.url === '/hold' ? held.push(res) : res.end('ok')));
  });
  afterEach(async () => {
    for (const res of held.splice(0)) res.end();
    await gw?.close();
    gw = undefined;
    upstream.seen.length = 0;
  });
  afterAll(async () => upstream.close());

  it('refuses a second request while the first is in flight with 503 problem+json and Retry-After, and admits once it ends', async () => {
    gw = await startGateway(basicConfig(ROUTE_CAP_1), { upstreamUrl: upstream.url });
    const first = get(`${gw.url}/hold`);
    await waitFor(() => held.length === 1);
    const refused = await get(`${gw.url}/other`);
    expect(refused.body.code).toBe('GW_CONCURRENCY_SATURATED');
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(upstream.seen.map((s) => s.url)).toEqual(['/hold']);
    held.shift()!.end('done');
    expect((await first).status).toBe(200);
    expect((await get(`${gw.url}/other`)).status).toBe(200);
  });

  it('frees the slot when the client aborts, exactly once, and cuts the upstream exchange', async () => {
    gw = await startGateway(basicConfig(ROUTE_CAP_1), { upstreamUrl: upstream.url });
    const aborted = rawGet(gw.port, '/hold');
    await waitFor(() => held.length === 1);
    let upstreamCut = false;
    held[0]!.once('close', () => (upstreamCut = true));
    expect((await get(`${gw.url}/x`)).status).toBe(503);
    aborted.destroy();
    await waitFor(() => upstreamCut);
    await waitFor(async () => (await get(`${gw!.url}/x`)).status === 200);
    held.shift();

    // The freed slot is one slot: a new request takes it and the next is refused again.
    const second = get(`${gw.url}/hold`);
    await waitFor(() => held.length === 1);
    expect((await get(`${gw.url}/x`)).body.code).toBe('GW_CONCURRENCY_SATURATED');
    held.shift()!.end('done');
    expect((await second).status).toBe(200);
    expect((await get(`${gw.url}/x`)).status).toBe(200);
  });

  it('frees the slot after an upstream error: a refused upstream keeps answering 502, not 503 from the limit', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    gw = await startGateway(basicConfig(ROUTE_CAP_1), { upstreamUrl: dead });
    for (let i = 0; i < 3; i++) expect((await get(`${gw.url}/x`)).body.code).toBe('GW_UPSTREAM_UNAVAILABLE');
  });

  it('counts each client IP on its own with key ip (127.0.0.1 and 127.0.0.2 are different clients)', async () => {
    gw = await startGateway(
      basicConfig(`    policies:
      - name: concurrency-limit
        config: { limits: [{ key: ip, max: 1 }] }
`),
      { upstreamUrl: upstream.url },
    );
    const first = get(`${gw.url}/hold`);
    await waitFor(() => held.length === 1);
    const sameIp = await get(`${gw.url}/x`);
    expect(sameIp.status).toBe(429);
    expect(sameIp.body.code).toBe('GW_CONCURRENCY_LIMIT');
    expect(await statusFrom(gw.port, '127.0.0.2')).toBe(200);
    held.shift()!.end();
    await first;
  });
});

import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startGateway, type TestGateway } from '../helpers/servers.js';

/**
 * A raw HTTP/1.1 upstream that answers the first request of each connection (keep-alive) and resets
 * the connection on any later one, the way a keep-alive connection closed by the upstream at the
 * moment a request is written looks to the gateway. With `resetEverything` it resets every request.
 */
async function resettingUpstream(options: { resetEverything?: boolean } = {}) {
  const seen: { connection: number; line: string }[] = [];
  let connections = 0;
  const server: Server = createServer((socket: Socket) => {
    const id = ++connections;
    let served = 0;
    let buffered = '';
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        seen.push({ connection: id, line: head.split('\r\n')[0]! });
        if (options.resetEverything || served > 0) {
          socket.resetAndDestroy();
          return;
        }
        served++;
        const body = `{"connection":${id}}`;
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nkeep-alive: timeout=60\r\n\r\n${body}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const yaml = (url: string) => `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: ${url} }], connections: 1, retries: 0 }
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
`;

describe('a pooled keep-alive connection reset under a request', () => {
  let gw: TestGateway | undefined;
  let upstream: Awaited<ReturnType<typeof resettingUpstream>> | undefined;
  afterEach(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function call(method: string, path: string, body?: string) {
    const res = await request(`${gw!.url}${path}`, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'text/plain' } }) });
    return { status: res.statusCode, text: await res.body.text() };
  }

  it('retries a GET once on a fresh connection: the client never sees the reset', async () => {
    upstream = await resettingUpstream();
    gw = await startGateway(yaml(upstream.url));
    expect(await call('GET', '/a')).toEqual({ status: 200, text: '{"connection":1}' });
    // The pooled connection 1 is reused and reset; the retry opens connection 2.
    expect(await call('GET', '/b')).toEqual({ status: 200, text: '{"connection":2}' });
    expect(upstream.seen).toEqual([
      { connection: 1, line: 'GET /a HTTP/1.1' },
      { connection: 1, line: 'GET /b HTTP/1.1' },
      { connection: 2, line: 'GET /b HTTP/1.1' },
    ]);
  });

  it('never retries a POST with a body: 502, and the upstream saw it once', async () => {
    upstream = await resettingUpstream();
    gw = await startGateway(yaml(upstream.url));
    expect((await call('GET', '/a')).status).toBe(200);
    const posted = await call('POST', '/orders', 'buy 1');
    expect(posted.status).toBe(502);
    expect(JSON.parse(posted.text)).toMatchObject({ code: 'GW_UPSTREAM_UNAVAILABLE' });
    expect(upstream.seen.filter((s) => s.line.startsWith('POST'))).toHaveLength(1);
  });

  it('retries only once: an upstream that resets every request gets two attempts, the client 502', async () => {
    upstream = await resettingUpstream({ resetEverything: true });
    gw = await startGateway(yaml(upstream.url));
    const res = await call('GET', '/boom');
    expect(res.status).toBe(502);
    expect(upstream.seen.map((s) => s.line)).toEqual(['GET /boom HTTP/1.1', 'GET /boom HTTP/1.1']);
  });
});

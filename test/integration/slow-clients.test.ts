import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicConfig, problemOf, rawRequest, startGateway, startUpstreamEcho, statusOf, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/** Resolves with what the server wrote and how long the connection stayed open. */
function trickle(port: number, chunks: string[], everyMs: number, maxMs: number): Promise<{ reply: string; openMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < chunks.length && !socket.destroyed) socket.write(chunks[i++]!);
    }, everyMs);
    const hardStop = setTimeout(() => socket.destroy(), maxMs);
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(hardStop);
      resolve({ reply, openMs: Date.now() - started });
    });
  });
}

describe('slow and oversized clients', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    const top = '';
    const yaml = basicConfig('', top).replace(
      'listeners: [{ host: 127.0.0.1, port: 0 }]',
      'listeners: [{ host: 127.0.0.1, port: 0 }]\n  timeouts: { headers: 400ms, request: 800ms }\n  limits: { maxHeaderBytes: 4kb }',
    ).replace('    forward: { upstream: up }', `    forward: { upstream: up }
    policies:
      - name: request-size-limit
        config: { maxBodyBytes: 1kb }`);
    gw = await startGateway(yaml, { upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('cuts off a client that sends its headers one byte at a time (slowloris) after the headers timeout', async () => {
    const head = 'GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'a'.repeat(200);
    const { reply, openMs } = await trickle(gw.port, head.split(''), 20, 10_000);
    expect(openMs).toBeLessThan(5_000);
    expect(statusOf(reply)).toBe(408);
    expect(problemOf(reply).code).toBe('GW_REQUEST_TIMEOUT');
    expect(upstream.seen.filter((s) => s.headers['x-slow'] !== undefined)).toHaveLength(0);
  });

  it('cuts off a client that sends its body too slowly after the request timeout', async () => {
    const head = 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n';
    const { openMs } = await trickle(gw.port, [head, ...'x'.repeat(100).split('')], 50, 10_000);
    expect(openMs).toBeLessThan(5_000);
  });

  it('answers 431 problem+json for headers over the listener limit', async () => {
    const raw = await rawRequest(gw.port, `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(6000)}\r\nConnection: close\r\n\r\n`);
    expect(statusOf(raw)).toBe(431);
    expect(problemOf(raw).code).toBe('GW_HEADERS_TOO_LARGE');
  });

  it('answers 413 for a declared body over the limit without forwarding it', async () => {
    const before = upstream.seen.length;
    const raw = await rawRequest(gw.port, `POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n${'a'.repeat(5000)}`);
    expect(statusOf(raw)).toBe(413);
    expect(problemOf(raw).code).toBe('GW_REQUEST_TOO_LARGE');
    expect(upstream.seen.length).toBe(before);
  });

  it('answers 413 for a chunked body that grows past the limit while streaming', async () => {
    const chunk = 'a'.repeat(512);
    const body = [1, 2, 3, 4].map(() => `200\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
    const raw = await rawRequest(gw.port, `POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`);
    expect(statusOf(raw)).toBe(413);
    expect(problemOf(raw).code).toBe('GW_REQUEST_TOO_LARGE');
    // Whatever part reached the upstream before the cut, it never got a complete 2 KB body.
    expect(upstream.seen.filter((s) => s.body.length >= 2048)).toHaveLength(0);
  });

  it('forwards a chunked body under the limit', async () => {
    const raw = await rawRequest(gw.port, `POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    expect(statusOf(raw)).toBe(200);
    expect(upstream.seen.at(-1)!.body.toString()).toBe('hello');
  });
});

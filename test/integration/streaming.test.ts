import { createHash, randomBytes } from 'node:crypto';
import { createServer, get as httpGet, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/** Bodies in motion: streaming both ways, back-pressure, and the timeouts that bound an exchange. */
const MB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Writes `total` bytes of `source` (cycled) in 64 KiB slices, waiting for 'drain' like any well-behaved producer. */
function produce(res: ServerResponse, source: Buffer, total: number, onWritten: (bytes: number) => void): void {
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const offset = sent % source.length;
      const slice = source.subarray(offset, Math.min(offset + 64 * 1024, source.length, offset + (total - sent)));
      sent += slice.length;
      onWritten(sent);
      if (!res.write(slice)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

interface StreamingUpstream {
  server: Server;
  url: string;
  /** Bytes the upstream handed to its socket for the current /big response, and whether it ended. */
  big: { written: number; closed: boolean };
  /** Length and hash of the last request body, computed as it streamed in. */
  upload: { length: number; hash: string } | undefined;
}

async function startStreamingUpstream(payload: Buffer): Promise<StreamingUpstream> {
  const state: StreamingUpstream = { server: undefined as unknown as Server, url: '', big: { written: 0, closed: false }, upload: undefined };
  state.server = createServer((req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
      return produce(res, payload, payload.length, () => undefined);
    }
    if (req.url === '/big') {
      state.big = { written: 0, closed: false };
      const big = state.big;
      res.on('close', () => (big.closed = true));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return produce(res, payload.subarray(0, MB), 200 * MB, (n) => (big.written = n));
    }
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      state.upload = { length, hash: hash.digest('hex') };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ chunked: req.headers['transfer-encoding'] === 'chunked' }));
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

/** Status, raw text and (when JSON) parsed body of one request. */
async function get(url: string): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await request(url);
  const text = await res.body.text();
  return { status: res.statusCode, text, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** What a 5xx problem+json must never carry: internals of the gateway or of the upstream. */
function expectNoInternals(text: string, body: Record<string, unknown>): void {
  expect(body.detail).toBeUndefined();
  expect(body.stack).toBeUndefined();
  expect(text).not.toMatch(/UND_ERR|total upstream|stack|at .*\.ts|127\.0\.0\.1:\d+/);
}

/** Polls `check` until it holds, for at most `ms`. */
async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('streaming through the gateway', () => {
  const payload = randomBytes(20 * MB);
  let upstream: StreamingUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startStreamingUpstream(payload);
    gw = await startGateway(
      `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
  - { name: all, match: { paths: ["/*"] }, forward: { upstream: up } }
`,
    );
  });
  afterAll(async () => {
    await gw.close();
    upstream.server.closeAllConnections();
    await new Promise((resolve) => upstream.server.close(resolve));
  });

  it('relays a 20 MB streamed (chunked) response intact: same length, same hash', async () => {
    const res = await request(`${gw.url}/download`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBeUndefined();
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of res.body) {
      length += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    expect(length).toBe(payload.length);
    expect(hash.digest('hex')).toBe(sha256(payload));
  });

  it('relays a 20 MB chunked request body intact to the upstream: same length, same hash', async () => {
    const chunks = function* () {
      for (let offset = 0; offset < payload.length; offset += 256 * 1024) yield payload.subarray(offset, offset + 256 * 1024);
    };
    const res = await request(`${gw.url}/upload`, { method: 'POST', body: Readable.from(chunks()) });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ chunked: true });
    expect(upstream.upload).toEqual({ length: payload.length, hash: sha256(payload) });
  });

  it('applies back-pressure: a slow-reading client holds the upstream back instead of filling gateway memory', async () => {
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let received = 0;
    const client = httpGet(`${gw.url}/big`, (res) => {
      // Reads one chunk every 20 ms: a few MB/s against an upstream that could send 200 MB at once.
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        res.pause();
        setTimeout(() => res.resume(), 20);
      });
    });
    client.on('error', () => undefined);
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
    await new Promise((r) => setTimeout(r, 2000));
    clearInterval(sampler);
    const written = upstream.big.written;
    client.destroy();

    expect(received).toBeGreaterThan(0);
    // Only socket buffers and one in-flight chunk sit between upstream and client, not the stream.
    expect(written - received).toBeLessThan(48 * MB);
    expect(written).toBeLessThan(100 * MB);
    expect(peak - baseline).toBeLessThan(80 * MB);
    // The client went away: the gateway aborts the upstream exchange instead of draining 200 MB.
    await waitFor(() => upstream.big.closed);
    expect(upstream.big.written).toBeLessThan(200 * MB);
  });
});

describe('upstream timeouts', () => {
  let silent: EchoUpstream;
  let gw: TestGateway;
  const stalled: ServerResponse[] = [];

  beforeAll(async () => {
    // Never answers /silent; sends a head and then nothing on /stall.
    silent = await startUpstreamEcho((req, res) => {
      stalled.push(res);
      if (req.url === '/stall') res.writeHead(200, { 'content-type': 'text/plain' }).write('partial');
    });
    const up = (timeouts: string) => `{ targets: [{ url: "${silent.url}" }], retries: 0, timeouts: ${timeouts}, healthChecks: { passive: { failures: 0 } } }`;
    gw = await startGateway(`version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  heads: ${up('{ headers: 200ms }')}
  total: ${up('{ headers: 10s, total: 250ms }')}
  idle: ${up('{ idle: 200ms }')}
routes:
  - { name: heads, match: { paths: ["/heads/*"] }, forward: { upstream: heads, stripPrefix: /heads } }
  - { name: total, match: { paths: ["/total/*"] }, forward: { upstream: total, stripPrefix: /total } }
  - { name: idle, match: { paths: ["/idle/*"] }, forward: { upstream: idle, stripPrefix: /idle } }
`);
  });
  afterAll(async () => {
    for (const res of stalled) res.destroy();
    await gw.close();
    await silent.close();
  });

  it('answers 504 GW_UPSTREAM_TIMEOUT when the upstream sends no head within timeouts.headers', async () => {
    const started = Date.now();
    const reply = await get(`${gw.url}/heads/silent`);
    expect(reply.status).toBe(504);
    expect(reply.body.code).toBe('GW_UPSTREAM_TIMEOUT');
    expectNoInternals(reply.text, reply.body);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers 504 GW_UPSTREAM_TIMEOUT when timeouts.total is spent before the response starts', async () => {
    const started = Date.now();
    const reply = await get(`${gw.url}/total/silent`);
    expect(reply.status).toBe(504);
    expect(reply.body.code).toBe('GW_UPSTREAM_TIMEOUT');
    expectNoInternals(reply.text, reply.body);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('cuts the client connection when timeouts.total is spent after the response started', async () => {
    const res = await request(`${gw.url}/total/stall`);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });

  it('cuts the client connection when the upstream pauses mid-body longer than timeouts.idle', async () => {
    const res = await request(`${gw.url}/idle/stall`);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });
});

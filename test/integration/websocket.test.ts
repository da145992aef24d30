import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { problemOf, rawRequest, startGateway, startUpstreamEcho, statusOf, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

const TLS_DIR = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

/** A WebSocket echo upstream: greets each connection, then answers every message with `echo:` + it. */
async function startWsEcho(tls = false) {
  const server = tls
    ? createHttpsServer({ cert: readFileSync(`${TLS_DIR}server.pem`), key: readFileSync(`${TLS_DIR}server.key`) })
    : createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server });
  /** Upgrade requests accepted, and the server-side sockets (newest last, to close from the upstream's side). */
  const seen: IncomingMessage[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws, req) => {
    seen.push(req);
    sockets.push(ws);
    ws.send('welcome');
    ws.on('message', (data: RawData, isBinary: boolean) => ws.send(isBinary ? data : `echo:${String(data)}`, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = async () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { url, seen, sockets, close };
}
type EchoWs = Awaited<ReturnType<typeof startWsEcho>>;

/** Opens a client WebSocket; resolves once the upstream's greeting arrived. `next()` yields later messages in order. */
async function openClient(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  let handshake: IncomingMessage['headers'] = {};
  ws.once('upgrade', (res: IncomingMessage) => (handshake = res.headers));
  const waiting: ((data: RawData) => void)[] = [];
  const queued: RawData[] = [];
  ws.on('message', (data: RawData) => (waiting.length > 0 ? waiting.shift()!(data) : queued.push(data)));
  const next = () => new Promise<RawData>((resolve) => (queued.length > 0 ? resolve(queued.shift()!) : waiting.push(resolve)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  expect(String(await next())).toBe('welcome');
  return { ws, handshake, next };
}

const closed = (ws: WebSocket) => new Promise<number>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve(-1) : ws.once('close', resolve)));

function upgradeHead(path: string, extra = '', protocol = 'websocket'): string {
  return (
    `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: ${protocol}\r\n` +
    `sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`
  );
}

/** Polls `check` until it holds, for at most `ms`. */
async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
  }
}

describe('WebSocket pass-through', () => {
  let upstream: EchoWs;
  let secure: EchoWs;
  let plainHttp: EchoUpstream;
  let gw: TestGateway;
  let wsBase: string;

  beforeAll(async () => {
    upstream = await startWsEcho();
    secure = await startWsEcho(true);
    // Not a WebSocket server: declines every upgrade with 403 and keeps the connection alive.
    plainHttp = await startUpstreamEcho((_req, res) => res.writeHead(403, { 'content-type': 'text/plain' }).end('nope'));
    gw = await startGateway(
      `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
  timeouts: { headers: 300ms, request: 400ms, keepAlive: 300ms }
admin: { enabled: false }
upstreams:
  ws: { targets: [{ url: "${upstream.url}" }] }
  wss: { targets: [{ url: "${secure.url}" }], tls: { ca: "${TLS_DIR}ca.pem" } }
  dead: { targets: [{ url: "http://127.0.0.1:9" }], healthChecks: { passive: { failures: 0 } } }
  declines: { targets: [{ url: "${plainHttp.url}" }] }
routes:
  - name: live
    match: { paths: ["/ws/*"] }
    policies: [{ name: template, config: { denyHeader: x-deny } }]
    forward: { upstream: ws, stripPrefix: /ws, websocket: true }
  - { name: secure, match: { paths: ["/wss/*"] }, forward: { upstream: wss, stripPrefix: /wss, websocket: true } }
  - { name: dead, match: { paths: ["/dead/*"] }, forward: { upstream: dead, websocket: true } }
  - { name: declines, match: { paths: ["/declines/*"] }, forward: { upstream: declines, websocket: true } }
  - { name: plain, match: { paths: ["/plain/*"] }, forward: { upstream: ws } }
  - name: idle
    match: { paths: ["/idle/*"] }
    forward: { upstream: ws, stripPrefix: /idle, websocket: true, websocketIdleTimeout: 400ms }
`,
    );
    wsBase = `ws://127.0.0.1:${gw.port}`;
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([upstream.close(), secure.close(), plainHttp.close()]);
  });

  it('round-trips text and binary messages both ways, with stripPrefix applied to the upgrade path', async () => {
    const client = await openClient(`${wsBase}/ws/chat?room=1`);
    expect(upstream.seen.at(-1)!.url).toBe('/chat?room=1');
    client.ws.send('hello');
    expect(String(await client.next())).toBe('echo:hello');
    const blob = Buffer.alloc(256 * 1024, 7);
    client.ws.send(blob);
    expect(Buffer.compare(Buffer.from((await client.next()) as Buffer), blob)).toBe(0);
    client.ws.close();
    await closed(client.ws);
  });

  it('tunnels to an https upstream trusted through tls.ca', async () => {
    const client = await openClient(`${wsBase}/wss/secure`);
    expect(secure.seen.at(-1)!.url).toBe('/secure');
    client.ws.send('over tls');
    expect(String(await client.next())).toBe('echo:over tls');
    client.ws.close();
    await closed(client.ws);
  });

  it('passes X-Forwarded-For and a fresh request id to the upstream, never the client-supplied one', async () => {
    const client = await openClient(`${wsBase}/ws/ids`, { 'x-request-id': 'spoofed', 'x-forwarded-for': '6.6.6.6' });
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.headers.upgrade).toBe('websocket');
    expect(client.handshake['x-request-id']).toBe(seen.headers['x-request-id']);
    client.ws.close();
    await closed(client.ws);
  });

  it('refuses an upgrade on a route without websocket: true with 403 GW_WEBSOCKET_NOT_ALLOWED', async () => {
    const before = upstream.seen.length;
    const raw = await rawRequest(gw.port, upgradeHead('/plain/chat'));
    expect(statusOf(raw)).toBe(403);
    expect(problemOf(raw).code).toBe('GW_WEBSOCKET_NOT_ALLOWED');
    expect(raw).toMatch(/content-type: application\/problem\+json/i);
    expect(upstream.seen).toHaveLength(before);
  });

  it('refuses Upgrade: h2c and other protocols with 403 GW_WEBSOCKET_NOT_ALLOWED', async () => {
    for (const protocol of ['h2c', 'TLS/1.2', 'websocket2']) {
      const raw = await rawRequest(gw.port, upgradeHead('/ws/chat', '', protocol));
      expect(statusOf(raw)).toBe(403);
      expect(problemOf(raw).code).toBe('GW_WEBSOCKET_NOT_ALLOWED');
    }
  });

  it('runs the route policies on the upgrade: x-deny is refused with 403 GW_FORBIDDEN and response hooks run', async () => {
    const before = upstream.seen.length;
    const raw = await rawRequest(gw.port, upgradeHead('/ws/chat', 'x-deny: 1\r\n'));
    expect(statusOf(raw)).toBe(403);
    const problem = problemOf(raw);
    expect(problem.code).toBe('GW_FORBIDDEN');
    expect(raw).toMatch(/x-portcullis-template: on/i);
    expect(raw).toMatch(new RegExp(`x-request-id: ${String(problem.requestId)}`, 'i'));
    expect(upstream.seen).toHaveLength(before);
  });

  it('answers 404 GW_ROUTE_NOT_FOUND for an upgrade no route matches', async () => {
    const raw = await rawRequest(gw.port, upgradeHead('/nowhere'));
    expect(statusOf(raw)).toBe(404);
    expect(problemOf(raw).code).toBe('GW_ROUTE_NOT_FOUND');
  });

  it('answers 502 GW_UPSTREAM_UNAVAILABLE when the upstream refuses the connection, without internals', async () => {
    const raw = await rawRequest(gw.port, upgradeHead('/dead/chat'));
    expect(statusOf(raw)).toBe(502);
    const problem = problemOf(raw);
    expect(problem.code).toBe('GW_UPSTREAM_UNAVAILABLE');
    expect(problem.detail).toBeUndefined();
    expect(raw).not.toMatch(/ECONNREFUSED/);
  });

  it('relays an upstream that declines the upgrade as a plain response and closes, so nothing can be smuggled after it', async () => {
    // Bytes sent right behind the upgrade request reach the upstream only after a 101, never after a decline.
    const smuggled = 'GET /declines/smuggled HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n';
    const reply = await rawRequest(gw.port, upgradeHead('/declines/chat') + smuggled);
    expect(statusOf(reply)).toBe(403);
    expect(reply).toMatch(/\r\nnope\r\n/);
    expect(reply).toMatch(/connection: close/i);
    expect(reply).toMatch(/x-request-id: [0-9a-f-]{36}/i);
    expect(reply.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(plainHttp.seen.map((s) => s.url)).toEqual(['/declines/chat']);
  });

  for (const side of ['client', 'upstream'] as const) {
    it(`closes the other side when the ${side} closes, cleanly or abruptly`, async () => {
      for (const how of ['close', 'terminate'] as const) {
        const client = await openClient(`${wsBase}/ws/${side}-${how}`);
        const serverSide = upstream.sockets.at(-1)!;
        const [closer, other] = side === 'client' ? [client.ws, serverSide] : [serverSide, client.ws];
        const otherClosed = closed(other);
        if (how === 'close') closer.close(1001, 'bye');
        else closer.terminate();
        expect(await otherClosed).toBe(how === 'close' ? 1001 : 1006);
      }
    });
  }

  it('writes one access line per upgrade with the upstream status 101, when the tunnel closes', async () => {
    const client = await openClient(`${wsBase}/ws/logged`);
    client.ws.send('x');
    await client.next();
    client.ws.close();
    await closed(client.ws);
    await waitFor(() => gw.logs.access().some((l) => l.path === '/ws/logged'));
    const lines = gw.logs.access().filter((l) => l.path === '/ws/logged');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ route: 'live', status: 101, decision: 'allow', upstream: 'ws' });
    expect(lines[0]!.bytes_in as number).toBeGreaterThan(0);
  });

  it('keeps an open tunnel alive past the listener request timeout (it bounds the handshake only)', async () => {
    const client = await openClient(`${wsBase}/ws/long`);
    await new Promise((r) => setTimeout(r, 1000));
    client.ws.send('still here');
    expect(String(await client.next())).toBe('echo:still here');
    client.ws.close();
    await closed(client.ws);
  });

  it('closes a tunnel silent both ways past websocketIdleTimeout, on both sides, but not one in use', async () => {
    const busy = await openClient(`${wsBase}/idle/busy`);
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 100));
      busy.ws.send(`tick ${i}`);
      expect(String(await busy.next())).toBe(`echo:tick ${i}`);
    }
    expect(busy.ws.readyState).toBe(WebSocket.OPEN);
    const both = Promise.all([closed(busy.ws), closed(upstream.sockets.at(-1)!)]);
    expect(await both).toEqual([1006, 1006]);
  });

  // Last: it closes the gateway.
  it('cuts open tunnels on both sides when the gateway closes', async () => {
    const client = await openClient(`${wsBase}/ws/shutdown`);
    const both = Promise.all([closed(client.ws), closed(upstream.sockets.at(-1)!)]);
    await gw.close();
    expect(await both).toEqual([1006, 1006]);
  });
});

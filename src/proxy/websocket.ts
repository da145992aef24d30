import { request as httpRequest, ServerResponse, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseDuration } from '../config/units.js';
import { RequestContext } from '../core/context.js';
import { HeaderList } from '../core/header-list.js';
import type { Pipeline } from '../core/pipeline.js';
import { GatewayError } from '../errors/index.js';
import { HOP_BY_HOP } from './forward.js';
import { prepareRequest, routeRequest } from './prepare.js';
import { asGatewayError, sendError, sendLocalReply } from './respond.js';
import { upstreamPath, type CompiledRoute, type GatewayRuntime } from './runtime.js';
import type { Upstream } from './upstream.js';
import type { UpstreamTarget } from './upstream-target.js';
import { buildUpstreamHeaders, lastValueIndex } from './upstream-headers.js';

/** One upgrade request: the context, the chain that ran (for log hooks) and how it ended. */
interface Upgrade {
  readonly runtime: GatewayRuntime;
  readonly ctx: RequestContext;
  readonly client: Duplex;
  pipeline: Pipeline;
  /** Route's `forward.websocketIdleTimeout`: a tunnel silent both ways this long is closed. 0 = never. */
  idleMs: number;
  /** True while the upgrade counts as an in-flight request of its snapshot (until tunnelled or refused). */
  held: boolean;
  logged: boolean;
}

/**
 * WebSocket pass-through (RFC 6455 section 4): the upgrade request goes through the same checks and
 * the same route chain as any request; once allowed it is sent to one target, and after the
 * target's 101 the frames are piped both ways untouched (extensions and subprotocols are negotiated
 * end to end). Only a GET with `Upgrade: websocket` (RFC 6455 section 4.1) is accepted, and only on
 * routes with `forward.websocket: true`; any other protocol (h2c, ...) is refused with 403.
 */
export function handleUpgrade(runtime: GatewayRuntime, req: IncomingMessage, socket: Duplex, head: Buffer, protocol: 'http' | 'https'): void {
  runtime.acquire();
  const ctx = new RequestContext(req, new ServerResponse(req), performance.now());
  ctx.protocol = protocol;
  const upgrade: Upgrade = { runtime, ctx, client: socket, pipeline: runtime.notFound, idleMs: 0, held: true, logged: false };
  socket.on('error', () => socket.destroy());
  const fail = (error: unknown) => refuse(upgrade, asGatewayError(error));
  try {
    const scan = prepareRequest(runtime, ctx);
    const routed = routeRequest(runtime, ctx);
    if (routed instanceof GatewayError) {
      // The global chain still runs first, as for any request: a denied IP learns nothing about paths.
      return then(runtime.notFound.runRequest(ctx), () => (ctx.reply !== undefined ? answerLocally(upgrade) : refuse(upgrade, routed)), fail, ctx);
    }
    const route = routed;
    upgrade.pipeline = route.pipeline;
    upgrade.idleMs = route.websocketIdleMs;
    if (ctx.method !== 'GET' || (req.headers.upgrade ?? '').trim().toLowerCase() !== 'websocket') {
      throw new GatewayError('GW_WEBSOCKET_NOT_ALLOWED', { reason: `upgrade to ${req.headers.upgrade ?? '?'} with ${ctx.method}` });
    }
    if (!route.websocket) throw new GatewayError('GW_WEBSOCKET_NOT_ALLOWED', { reason: `route ${route.name} does not allow websocket` });
    then(route.pipeline.runRequest(ctx), () => {
      if (ctx.reply !== undefined) return answerLocally(upgrade);
      const target = route.upstream.pick(route.upstream.now());
      if (target === undefined) throw route.upstream.unavailable(route.upstream.now());
      const headers = buildUpstreamHeaders(ctx, scan, route, target.hostHeader, runtime.requestIdHeader);
      headers.push('connection', 'upgrade', 'upgrade', 'websocket');
      const path = upstreamPath(route, ctx.path);
      // With spans, the upstream's parent is the handshake's CLIENT span.
      if (ctx.spans !== undefined) headers[lastValueIndex(headers, 'traceparent')] = ctx.spans.startClient(ctx, target.origin, path, 1);
      tunnel(upgrade, route, target, ctx.query === '' ? path : `${path}?${ctx.query}`, headers, head);
    }, fail, ctx);
  } catch (error) {
    fail(error);
  }
}

/** Runs `next` after the chain, synchronously when the chain was synchronous; closes the phase spans either way. */
function then(result: void | Promise<void>, next: () => void, fail: (error: unknown) => void, ctx: RequestContext): void {
  const spans = ctx.spans;
  const proceed = spans === undefined ? next : () => (spans.endPhases(ctx), next());
  const refuse = spans === undefined ? fail : (error: unknown) => (spans.endPhases(ctx), fail(error));
  if (result === undefined) {
    try {
      proceed();
    } catch (error) {
      fail(error);
    }
    return;
  }
  result.then(proceed).catch(refuse);
}

/**
 * Asks the target to switch protocols with Node's HTTP client, so the answer is parsed, not
 * guessed: only a 101 to websocket opens the tunnel. Any other answer is relayed as an ordinary
 * response and the connection closed; piping bytes before seeing 101 would let a client whose
 * upgrade the upstream declined keep talking to it directly, past every policy (request smuggling).
 */
function tunnel(upgrade: Upgrade, route: CompiledRoute, target: UpstreamTarget, path: string, headers: string[], early: Buffer): void {
  const { ctx, client } = upgrade;
  if (client.destroyed) return finish(upgrade);
  const upstream = route.upstream;
  const options: RequestOptions = {
    ...target.tls,
    host: target.url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(target.url.port || (target.tls === undefined ? 80 : 443)),
    method: 'GET',
    path,
    headers,
    agent: false,
    timeout: parseDuration(upstream.config.timeouts.connect),
  };
  const req = target.tls === undefined ? httpRequest(options) : httpsRequest(options);
  ctx.upstreamTarget = target.origin;
  ctx.upstreamStartedAt = performance.now();
  client.once('close', () => {
    req.destroy();
    finish(upgrade);
  });
  // Connected: from here the handshake answer has timeouts.headers to arrive.
  req.once('socket', (socket: Socket) =>
    socket.once(target.tls === undefined ? 'connect' : 'secureConnect', () => req.setTimeout(parseDuration(upstream.config.timeouts.headers))),
  );
  req.on('timeout', () => req.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })));
  req.once('error', (error: Error & { code?: string }) => {
    ctx.spans?.endClient(0, error.code ?? 'UNKNOWN');
    upstream.recordFailure(target, upstream.now(), error.code ?? 'UNKNOWN');
    const code = error.code === 'ETIMEDOUT' ? 'GW_UPSTREAM_TIMEOUT' : 'GW_UPSTREAM_UNAVAILABLE';
    refuse(upgrade, new GatewayError(code, { reason: `websocket upstream ${upstream.name}: ${error.code ?? error.message}`, cause: error }));
  });
  req.once('response', (res: IncomingMessage) => {
    ctx.spans?.endClient(res.statusCode ?? 0, undefined);
    relayDecline(upgrade, res, () => req.destroy());
  });
  req.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
    if ((res.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      socket.destroy();
      return refuse(upgrade, new GatewayError('GW_UPSTREAM_UNAVAILABLE', { reason: `upstream switched to ${res.headers.upgrade ?? '?'}` }));
    }
    upstream.recordSuccess(target);
    splice(upgrade, upstream, res, socket, head, early);
  });
  req.end();
}

/** The upstream said 101: relay its answer, then pipe both ways with back-pressure until either side closes. */
function splice(upgrade: Upgrade, upstream: Upstream, res: IncomingMessage, socket: Socket, head: Buffer, early: Buffer): void {
  const { ctx, client } = upgrade;
  ctx.status = 101;
  ctx.spans?.endClient(101, undefined);
  ctx.upstreamLatencyMs = performance.now() - ctx.upstreamStartedAt;
  track(upstream, client, socket);
  socket.setTimeout(0);
  socket.setNoDelay(true);
  // A socket's timer restarts on reads and writes alike, so the client side alone sees traffic both
  // ways: an abandoned tunnel (a client that vanished without a FIN) cannot hold two sockets forever.
  if (upgrade.idleMs > 0) {
    const clientSocket = client as Socket;
    clientSocket.setTimeout(upgrade.idleMs);
    clientSocket.once('timeout', () => clientSocket.destroy());
  }
  socket.on('error', () => client.destroy());
  socket.once('close', () => client.destroy());
  client.once('close', () => socket.destroy());
  let answer = `HTTP/1.1 101 ${res.statusMessage ?? 'Switching Protocols'}\r\n`;
  for (let i = 0; i < res.rawHeaders.length; i += 2) answer += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  client.write(`${answer}${upgrade.runtime.requestIdHeader}: ${ctx.requestId}\r\n\r\n`);
  if (head.length > 0) client.write(head);
  if (early.length > 0) socket.write(early);
  socket.on('data', (chunk: Buffer) => (ctx.bytesOut += chunk.length));
  client.on('data', (chunk: Buffer) => (ctx.bytesIn += chunk.length));
  socket.pipe(client);
  client.pipe(socket);
  // An open tunnel no longer holds its snapshot (a reload need not wait for it); its upstream owns it.
  release(upgrade);
}

/**
 * The upstream declined the upgrade (401, 426, ...): its answer goes to the client like any
 * response (hop-by-hop headers dropped, response hooks run), and then both connections close.
 */
function relayDecline(upgrade: Upgrade, res: IncomingMessage, closeUpstream: () => void): void {
  const { ctx } = upgrade;
  const status = res.statusCode ?? 502;
  ctx.upstreamLatencyMs = performance.now() - ctx.upstreamStartedAt;
  const head = new HeaderList();
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i]!.toLowerCase();
    if (!HOP_BY_HOP.has(name)) head.entries.push(name, res.rawHeaders[i + 1]!);
  }
  for (const token of (res.headers.connection ?? '').split(',')) head.delete(token.trim().toLowerCase());
  head.set(upgrade.runtime.requestIdHeader, ctx.requestId);
  upgrade.pipeline.runResponse(ctx, head, status);
  ctx.res.once('close', closeUpstream);
  respondOnSocket(upgrade, () => {
    ctx.status = status;
    ctx.res.writeHead(status, head.entries);
    res.on('data', (chunk: Buffer) => (ctx.bytesOut += chunk.length));
    res.pipe(ctx.res);
  });
}

/** Both sockets of a tunnel belong to the upstream, which cuts them when it is closed. */
function track(upstream: Upstream, client: Duplex, socket: Socket): void {
  for (const s of [client, socket]) {
    upstream.tunnels.add(s);
    s.once('close', () => upstream.tunnels.delete(s));
  }
}

/**
 * Answers the upgrade with problem+json through the same `sendError` as any request (request id,
 * response hooks), on a response bound to the raw socket, then closes it: after a refused upgrade
 * the connection's state is unknown.
 */
function refuse(upgrade: Upgrade, error: GatewayError): void {
  respondOnSocket(upgrade, () => sendError(upgrade.ctx, upgrade.pipeline, error, upgrade.runtime.requestIdHeader));
}

/** A policy answered the upgrade itself (ctx.respond): sent as is, and the connection closed. */
function answerLocally(upgrade: Upgrade): void {
  respondOnSocket(upgrade, () => sendLocalReply(upgrade.ctx, upgrade.pipeline, upgrade.runtime.requestIdHeader));
}

function respondOnSocket(upgrade: Upgrade, send: () => void): void {
  const { ctx, client } = upgrade;
  const res = ctx.res;
  if (client.destroyed || !client.writable || res.headersSent) {
    client.destroy();
    return finish(upgrade);
  }
  res.shouldKeepAlive = false;
  res.assignSocket(client as Socket);
  res.once('finish', () => {
    client.end();
    finish(upgrade);
  });
  client.once('close', () => finish(upgrade));
  send();
}

/** Metrics, log hooks and the access log, once per upgrade: when refused, or when the tunnel closes. */
function finish(upgrade: Upgrade): void {
  if (upgrade.logged) return;
  upgrade.logged = true;
  const { runtime, ctx } = upgrade;
  const seconds = (performance.now() - ctx.startedAt) / 1000;
  if (ctx.status === 0) ctx.status = 499;
  runtime.deps.metrics.request(ctx.route?.name ?? '*', ctx.method, ctx.status, seconds, ctx.principal?.consumerId ?? ctx.principal?.subject);
  upgrade.pipeline.runLog(ctx);
  if (runtime.accessLog) runtime.deps.accessLog?.write(ctx, seconds, false);
  ctx.spans?.end(ctx);
  release(upgrade);
}

function release(upgrade: Upgrade): void {
  if (!upgrade.held) return;
  upgrade.held = false;
  upgrade.runtime.release();
}

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseDuration } from '../config/units.js';
import { RequestContext } from '../core/context.js';
import type { Pipeline } from '../core/pipeline.js';
import { GatewayError } from '../errors/index.js';
import { writeAccessLog } from '../observability/access-log.js';
import { prepareRequest } from './prepare.js';
import { asGatewayError, sendError, sendLocalReply } from './respond.js';
import { upstreamPath, type CompiledRoute, type GatewayRuntime } from './runtime.js';
import type { Upstream } from './upstream.js';
import type { UpstreamTarget } from './upstream-target.js';
import { buildUpstreamHeaders } from './upstream-headers.js';

/** RFC 9110 section 5.5: a field value holds no CR, LF or NUL; anything a policy added is checked once more. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/** One upgrade request: the context, the chain that ran (for log hooks) and how it ended. */
interface Upgrade {
  readonly runtime: GatewayRuntime;
  readonly ctx: RequestContext;
  readonly client: Duplex;
  pipeline: Pipeline;
  /** True while the upgrade counts as an in-flight request of its snapshot (until tunnelled or refused). */
  held: boolean;
  logged: boolean;
}

/**
 * WebSocket pass-through (RFC 6455 section 4): the upgrade request goes through the same checks and
 * the same route chain as any request; once allowed, the handshake and then the frames are piped
 * both ways untouched (extensions and subprotocols are negotiated end to end). Only a GET with
 * `Upgrade: websocket` (RFC 6455 section 4.1) is accepted, and only on routes with
 * `forward.websocket: true`; any other protocol (h2c, ...) is refused with 403.
 */
export function handleUpgrade(runtime: GatewayRuntime, req: IncomingMessage, socket: Duplex, head: Buffer, protocol: 'http' | 'https'): void {
  runtime.acquire();
  const ctx = new RequestContext(req, new ServerResponse(req), performance.now());
  ctx.protocol = protocol;
  const upgrade: Upgrade = { runtime, ctx, client: socket, pipeline: runtime.notFound, held: true, logged: false };
  socket.on('error', () => socket.destroy());
  const fail = (error: unknown) => refuse(upgrade, asGatewayError(error));
  try {
    const scan = prepareRequest(runtime, ctx);
    const found = runtime.router.lookup(ctx.method, ctx.path, ctx.host);
    if (found.kind !== 'found') {
      // The global chain still runs first, as for any request: a denied IP learns nothing about paths.
      const denial = new GatewayError('GW_ROUTE_NOT_FOUND', { reason: 'no route for upgrade' });
      return then(runtime.notFound.runRequest(ctx), () => (ctx.reply !== undefined ? answerLocally(upgrade) : refuse(upgrade, denial)), fail);
    }
    const route = found.match.route;
    upgrade.pipeline = route.pipeline;
    ctx.route = route;
    ctx.params = found.match.params;
    ctx.upstreamName = route.upstream.name;
    if (ctx.method !== 'GET' || (req.headers.upgrade ?? '').trim().toLowerCase() !== 'websocket') {
      throw new GatewayError('GW_WEBSOCKET_NOT_ALLOWED', { reason: `upgrade to ${req.headers.upgrade ?? '?'} with ${ctx.method}` });
    }
    if (!route.websocket) throw new GatewayError('GW_WEBSOCKET_NOT_ALLOWED', { reason: `route ${route.name} does not allow websocket` });
    then(route.pipeline.runRequest(ctx), () => {
      if (ctx.reply !== undefined) return answerLocally(upgrade);
      const target = route.upstream.pick(Date.now());
      if (target === undefined) throw new GatewayError('GW_NO_HEALTHY_UPSTREAM', { reason: 'no target for upgrade' });
      const headers = buildUpstreamHeaders(ctx, scan, route, target.hostHeader, runtime.requestIdHeader);
      headers.push('connection', 'upgrade', 'upgrade', 'websocket');
      tunnel(upgrade, route, target, requestHead(upstreamPath(route, ctx.path), ctx.query, headers), head);
    }, fail);
  } catch (error) {
    fail(error);
  }
}

/** Runs `next` after the chain, synchronously when the chain was synchronous. */
function then(result: void | Promise<void>, next: () => void, fail: (error: unknown) => void): void {
  if (result === undefined) {
    try {
      next();
    } catch (error) {
      fail(error);
    }
    return;
  }
  result.then(next).catch(fail);
}

function requestHead(path: string, query: string, headers: string[]): string {
  let out = `GET ${path}${query === '' ? '' : `?${query}`} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    if (INVALID_VALUE.test(headers[i + 1]!)) throw new GatewayError('GW_INTERNAL', { reason: `invalid value for upstream header ${headers[i]}` });
    out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  return out + '\r\n';
}

/**
 * Connects to the target and, once connected, pipes both ways with back-pressure. Either side
 * closing or failing destroys the other: a half-dead tunnel would hold two sockets forever.
 */
function tunnel(upgrade: Upgrade, route: CompiledRoute, target: UpstreamTarget, head: string, early: Buffer): void {
  const { ctx, client } = upgrade;
  if (client.destroyed) return finish(upgrade);
  const upstream = route.upstream;
  const port = Number(target.url.port || (target.tls === undefined ? 80 : 443));
  const host = target.url.hostname.replace(/^\[|\]$/g, '');
  const socket: Socket = target.tls === undefined ? netConnect({ host, port }) : tlsConnect({ ...target.tls, host, port });
  ctx.upstreamTarget = target.origin;
  ctx.upstreamStartedAt = performance.now();
  track(upstream, client, socket);
  socket.setTimeout(parseDuration(upstream.config.timeouts.connect), () => socket.destroy(timeoutError()));
  const onConnectError = (error: Error & { code?: string }) => {
    upstream.recordFailure(target, Date.now(), error.code ?? 'UNKNOWN');
    const code = error.code === 'ETIMEDOUT' ? 'GW_UPSTREAM_TIMEOUT' : 'GW_UPSTREAM_UNAVAILABLE';
    refuse(upgrade, new GatewayError(code, { reason: `websocket upstream ${upstream.name}: ${error.code ?? error.message}`, cause: error }));
  };
  socket.once('error', onConnectError);
  client.once('close', () => {
    socket.destroy();
    finish(upgrade);
  });
  socket.once(target.tls === undefined ? 'connect' : 'secureConnect', () => {
    socket.off('error', onConnectError);
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.on('error', () => client.destroy());
    socket.once('close', () => client.destroy());
    socket.once('data', (chunk: Buffer) => {
      // The handshake answer (101, or the upstream's refusal) goes to the client as is; it is read
      // here only for the access log.
      ctx.status = Number(STATUS_LINE.exec(chunk.toString('latin1', 0, 16))?.[1] ?? 0);
      ctx.upstreamLatencyMs = performance.now() - ctx.upstreamStartedAt;
      upstream.recordSuccess(target);
    });
    socket.on('data', (chunk: Buffer) => (ctx.bytesOut += chunk.length));
    client.on('data', (chunk: Buffer) => (ctx.bytesIn += chunk.length));
    socket.write(head);
    if (early.length > 0) socket.write(early);
    socket.pipe(client);
    client.pipe(socket);
    // An open tunnel no longer holds its snapshot (a reload need not wait for it); its upstream owns it.
    release(upgrade);
  });
}

/** Both sockets of a tunnel belong to the upstream, which cuts them when it is closed. */
function track(upstream: Upstream, client: Duplex, socket: Socket): void {
  for (const s of [client, socket]) {
    upstream.tunnels.add(s);
    s.once('close', () => upstream.tunnels.delete(s));
  }
}

function timeoutError(): Error {
  return Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' });
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
  runtime.deps.metrics.request(ctx.route?.name ?? '*', ctx.method, ctx.status, seconds);
  upgrade.pipeline.runLog(ctx);
  if (runtime.accessLog) writeAccessLog(runtime.deps.logger, ctx, seconds, false);
  release(upgrade);
}

function release(upgrade: Upgrade): void {
  if (!upgrade.held) return;
  upgrade.held = false;
  upgrade.runtime.release();
}

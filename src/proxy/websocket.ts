import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestContext } from '../core/context.js';
import { GatewayError, problemBody } from '../errors/index.js';
import { prepareRequest } from './prepare.js';
import { asGatewayError } from './respond.js';
import { upstreamPath, type GatewayRuntime } from './runtime.js';
import { buildUpstreamHeaders } from './upstream-headers.js';

/**
 * WebSocket pass-through (RFC 6455 section 4): the upgrade request goes through the same checks and
 * the same route chain as any request; once allowed, bytes are piped both ways untouched. Only
 * `Upgrade: websocket` is accepted, and only on routes with `forward.websocket: true`.
 */
export function handleUpgrade(runtime: GatewayRuntime, req: IncomingMessage, socket: Duplex, head: Buffer, protocol: 'http' | 'https'): void {
  const ctx = new RequestContext(req, new ServerResponse(req), performance.now());
  ctx.protocol = protocol;
  socket.on('error', () => socket.destroy());
  try {
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      throw new GatewayError('GW_WEBSOCKET_NOT_ALLOWED', { reason: `upgrade to ${req.headers.upgrade ?? '?'}` });
    }
    const scan = prepareRequest(runtime, ctx);
    const found = runtime.router.lookup(ctx.method, ctx.path, ctx.host);
    if (found.kind !== 'found') throw new GatewayError('GW_ROUTE_NOT_FOUND', { reason: 'no route for upgrade' });
    const route = found.match.route;
    if (!route.websocket) throw new GatewayError('GW_WEBSOCKET_NOT_ALLOWED', { reason: `route ${route.name} does not allow websocket` });
    ctx.route = route;
    ctx.params = found.match.params;
    const upstreamTarget = route.upstream.pick(Date.now());
    if (upstreamTarget === undefined) throw new GatewayError('GW_NO_HEALTHY_UPSTREAM', { reason: 'no target for upgrade' });

    const proceed = () => {
      if (ctx.reply !== undefined) throw new GatewayError('GW_WEBSOCKET_NOT_ALLOWED', { reason: 'a policy answered the upgrade locally' });
      const headers = buildUpstreamHeaders(ctx, scan, route, upstreamTarget.hostHeader, runtime.requestIdHeader);
      headers.push('connection', 'upgrade', 'upgrade', 'websocket');
      const path = upstreamPath(route, ctx.path) + (ctx.query === '' ? '' : `?${ctx.query}`);
      pipeTo(upstreamTarget.url, route.upstream.config.tls, runtime.loaded.dir, `GET ${path} HTTP/1.1\r\n${serialize(headers)}\r\n`, head, socket);
    };
    const result = route.pipeline.runRequest(ctx);
    if (result === undefined) proceed();
    else result.then(proceed).catch((error: unknown) => refuse(socket, asGatewayError(error), ctx.requestId));
  } catch (error) {
    refuse(socket, asGatewayError(error), ctx.requestId);
  }
}

function serialize(headers: string[]): string {
  let out = '';
  for (let i = 0; i < headers.length; i += 2) out += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return out;
}

function pipeTo(url: URL, tls: { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: boolean } | undefined, dir: string, requestHead: string, head: Buffer, client: Duplex): void {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(resolve(dir, file)));
  const upstream: Socket =
    url.protocol === 'https:'
      ? tlsConnect({ host: url.hostname, port, servername: tls?.servername ?? url.hostname, ca: read(tls?.ca), cert: read(tls?.cert), key: read(tls?.key), rejectUnauthorized: tls?.rejectUnauthorized ?? true })
      : netConnect({ host: url.hostname, port });
  const onConnectError = () => refuse(client, new GatewayError('GW_UPSTREAM_UNAVAILABLE', { reason: 'websocket upstream connect failed' }), undefined);
  upstream.once('error', onConnectError);
  upstream.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
    upstream.off('error', onConnectError);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.write(requestHead);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
}

function refuse(socket: Duplex, error: GatewayError, requestId: string | undefined): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = problemBody(error, requestId);
  socket.end(
    `HTTP/1.1 ${error.status} ${error.title}\r\ncontent-type: application/problem+json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

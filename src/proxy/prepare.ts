import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../core/context.js';
import { GatewayError } from '../errors/index.js';
import { canonicalIp } from './client-address.js';
import { normalizePath } from './normalize-path.js';
import { acceptableRequestId, scanRequestHead, type ScannedHead } from './request-head.js';
import type { CompiledRoute, GatewayRuntime } from './runtime.js';
import { parseHost, parseTarget } from './target.js';

/**
 * Everything decided before routing, shared by plain requests and upgrades: the head read once
 * (smuggling checks), the client IP, request id and trace (believed only from trusted proxies), the
 * target, host and normalised path. Throws a GatewayError for anything ambiguous or invalid.
 */
export function prepareRequest(runtime: GatewayRuntime, ctx: RequestContext): ScannedHead {
  const req = ctx.req;
  // Who is asking and the request id come first, so that even a refused request is logged with both.
  const peer = canonicalIp(req.socket.remoteAddress ?? '');
  ctx.remoteAddress = peer;
  ctx.fromTrustedProxy = runtime.trustedProxies.trusts(peer);
  if (ctx.fromTrustedProxy) {
    // Node joins repeated X-Forwarded-For headers with ", ", which is what the walk expects.
    ctx.clientIp = runtime.trustedProxies.resolveClient(peer, req.headers['x-forwarded-for'] as string | undefined);
    const incoming = req.headers[runtime.requestIdHeader];
    ctx.requestId = typeof incoming === 'string' && acceptableRequestId(incoming) ? incoming : randomUUID();
  } else {
    ctx.clientIp = peer;
    ctx.requestId = randomUUID();
  }
  runtime.tracing.start(ctx, req.headers.traceparent, req.headers.tracestate);
  // HTTP/0.9 has no headers and no version in its request line: one that claims the version is malformed (nginx and Apache answer 400 too).
  if (req.httpVersionMajor === 0) {
    throw new GatewayError('GW_BAD_REQUEST', { reason: `unsupported version HTTP/0.${req.httpVersionMinor}`, detail: 'The HTTP version is not supported.' });
  }
  // HTTP/1.1 requires a Host with a value: an origin-form target has no other authority (RFC 9112
  // section 3.2). Node's own check answers without problem+json, so it is off and done here.
  if ((req.headers.host === undefined || req.headers.host === '') && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
    throw new GatewayError('GW_BAD_REQUEST', { reason: 'HTTP/1.1 request without Host', detail: 'The Host header is required.' });
  }
  const scan = scanRequestHead(req.rawHeaders, runtime.requestIdHeader);
  const target = parseTarget(req.url ?? '/', req.headers.host);
  ctx.query = target.query;
  ctx.host = parseHost(req.headers.host);
  const normalized = normalizePath(target.rawPath, runtime.normalize);
  if (!normalized.ok) throw new GatewayError('GW_PATH_INVALID', { reason: normalized.reason, detail: 'The request path is invalid.' });
  ctx.path = normalized.path;
  return scan;
}

/**
 * Routes a prepared request. On a match the context gets the route, its parameters and upstream;
 * otherwise the denial to give once the global chain has run: 404, or 405 with `Allow` when the
 * path exists for other methods (RFC 9110 section 15.5.6).
 */
export function routeRequest(runtime: GatewayRuntime, ctx: RequestContext): CompiledRoute | GatewayError {
  const found = runtime.router.lookup(ctx.method, ctx.path, ctx.host);
  if (found.kind === 'not-found') return new GatewayError('GW_ROUTE_NOT_FOUND', { reason: 'no route matches' });
  if (found.kind === 'method-not-allowed') {
    return new GatewayError('GW_METHOD_NOT_ALLOWED', { reason: 'route exists for other methods', headers: { allow: found.allow.join(', ') } });
  }
  const route = found.match.route;
  ctx.route = route;
  ctx.spans?.route(found.match.template);
  ctx.params = found.match.params;
  ctx.upstreamName = route.upstream.name;
  return route;
}

import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../core/context.js';
import { GatewayError } from '../errors/index.js';
import { canonicalIp } from './client-address.js';
import { normalizePath } from './normalize-path.js';
import { acceptableRequestId, scanRequestHead, type ScannedHead } from './request-head.js';
import type { GatewayRuntime } from './runtime.js';
import { parseHost, parseTarget } from './target.js';

/**
 * Everything decided before routing, shared by plain requests and upgrades: the head read once
 * (smuggling checks), the client IP and request id (believed only from trusted proxies), the
 * target, host and normalised path. Throws a GatewayError for anything ambiguous or invalid.
 */
export function prepareRequest(runtime: GatewayRuntime, ctx: RequestContext): ScannedHead {
  const req = ctx.req;
  const scan = scanRequestHead(req.rawHeaders, runtime.requestIdHeader);
  const peer = canonicalIp(req.socket.remoteAddress ?? '');
  ctx.remoteAddress = peer;
  ctx.fromTrustedProxy = runtime.trustedProxies.trusts(peer);
  ctx.clientIp = ctx.fromTrustedProxy ? runtime.trustedProxies.resolveClient(peer, scan.forwardedFor) : peer;
  ctx.requestId = ctx.fromTrustedProxy && acceptableRequestId(scan.incomingRequestId) ? scan.incomingRequestId : randomUUID();
  const target = parseTarget(req.url ?? '/', req.headers.host);
  ctx.query = target.query;
  ctx.host = parseHost(req.headers.host);
  const normalized = normalizePath(target.rawPath, runtime.normalize);
  if (!normalized.ok) throw new GatewayError('GW_PATH_INVALID', { reason: normalized.reason, detail: 'The request path is invalid.' });
  ctx.path = normalized.path;
  return scan;
}

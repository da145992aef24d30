import type { RequestContext } from '../core/context.js';
import { HeaderList } from '../core/header-list.js';
import type { Pipeline } from '../core/pipeline.js';
import { GatewayError, PROBLEM_CONTENT_TYPE, problemBody } from '../errors/index.js';

/**
 * Renders a GatewayError once, at the edge: RFC 9457 problem+json, the error's own headers, the
 * request id, then the route's response hooks (security headers, CORS) so denials get them too.
 * If the response has already started there is nothing honest left to send: the connection is cut.
 */
export function sendError(ctx: RequestContext, pipeline: Pipeline | undefined, error: GatewayError, requestIdHeader: string): void {
  ctx.error = error;
  ctx.status = error.status;
  if (ctx.decision.code === undefined) {
    ctx.decision.outcome = error.status >= 500 ? 'error' : 'deny';
    ctx.decision.code = error.code;
    ctx.decision.reason = error.reason ?? error.detail;
  }
  const res = ctx.res;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = problemBody(error, ctx.requestId || undefined);
  const head = new HeaderList([
    'content-type',
    PROBLEM_CONTENT_TYPE,
    'content-length',
    String(Buffer.byteLength(body)),
    'cache-control',
    'no-store',
  ]);
  if (error.headers !== undefined) for (const [name, value] of Object.entries(error.headers)) head.set(name.toLowerCase(), value);
  if (ctx.requestId !== '') head.set(requestIdHeader, ctx.requestId);
  // A request we refused before reading its body leaves the connection in an unknown state.
  if (error.status === 413 || error.status === 400 || error.status === 408) head.set('connection', 'close');
  pipeline?.runResponse(ctx, head, error.status);
  res.writeHead(error.status, head.entries);
  res.end(ctx.method === 'HEAD' ? undefined : body);
}

/** Sends a reply a policy made with `ctx.respond()`, through the response hooks. */
export function sendLocalReply(ctx: RequestContext, pipeline: Pipeline, requestIdHeader: string): void {
  const reply = ctx.reply!;
  ctx.status = reply.status;
  const head = new HeaderList();
  for (const [name, value] of Object.entries(reply.headers)) head.append(name.toLowerCase(), value);
  if (reply.body !== undefined) head.setDefault('content-length', String(Buffer.byteLength(reply.body)));
  else if (reply.status !== 204 && reply.status !== 304) head.setDefault('content-length', '0');
  if (ctx.requestId !== '') head.set(requestIdHeader, ctx.requestId);
  pipeline.runResponse(ctx, head, reply.status);
  ctx.res.writeHead(reply.status, head.entries);
  ctx.res.end(ctx.method === 'HEAD' ? undefined : reply.body);
}

/** Anything thrown that is not a GatewayError is a bug or a fault: 500, details to the log only. */
export function asGatewayError(error: unknown): GatewayError {
  return error instanceof GatewayError ? error : new GatewayError('GW_INTERNAL', { reason: 'unexpected fault', cause: error });
}

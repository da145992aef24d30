import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from '../core/context.js';
import type { Pipeline } from '../core/pipeline.js';
import { GatewayError } from '../errors/index.js';
import { writeAccessLog } from '../observability/access-log.js';
import { ForwardCall } from './forward.js';
import { prepareRequest } from './prepare.js';
import type { ScannedHead } from './request-head.js';
import { asGatewayError, sendError, sendLocalReply } from './respond.js';
import { upstreamPath, type CompiledRoute, type GatewayRuntime } from './runtime.js';
import { buildUpstreamHeaders } from './upstream-headers.js';

/**
 * The request path, in order: read the head once (smuggling checks, forwarding headers), resolve
 * the client and request id, normalise the path, route, run the route's chain, then forward or
 * answer. Every exit goes through `sendError`/`sendLocalReply`/`ForwardCall`; the access log and
 * metrics run once, when the response closes.
 */
export function handleRequest(runtime: GatewayRuntime, req: IncomingMessage, res: ServerResponse, protocol: 'http' | 'https'): void {
  runtime.acquire();
  const ctx = new RequestContext(req, res, performance.now());
  ctx.protocol = protocol;
  let pipeline: Pipeline = runtime.notFound;
  let call: ForwardCall | undefined;
  res.once('close', () => {
    if (!res.writableFinished) call?.clientClosed();
    finishRequest(runtime, ctx, pipeline);
  });

  let scan: ScannedHead;
  let route: CompiledRoute;
  try {
    scan = prepareRequest(runtime, ctx);
    const found = runtime.router.lookup(ctx.method, ctx.path, ctx.host);
    if (found.kind !== 'found') {
      const denial =
        found.kind === 'not-found'
          ? new GatewayError('GW_ROUTE_NOT_FOUND', { reason: 'no route matches' })
          : new GatewayError('GW_METHOD_NOT_ALLOWED', { reason: 'route exists for other methods', headers: { allow: found.allow.join(', ') } });
      // The global chain still runs first: a denied IP learns nothing about which paths exist.
      return continueWith(runtime.notFound.runRequest(ctx), () => {
        if (ctx.reply !== undefined) sendLocalReply(ctx, runtime.notFound, runtime.requestIdHeader);
        else sendError(ctx, runtime.notFound, denial, runtime.requestIdHeader);
      }, ctx, runtime);
    }
    route = found.match.route;
    pipeline = route.pipeline;
    ctx.route = route;
    ctx.params = found.match.params;
    ctx.upstreamName = route.upstream.name;
  } catch (error) {
    sendError(ctx, pipeline, asGatewayError(error), runtime.requestIdHeader);
    return;
  }

  continueWith(route.pipeline.runRequest(ctx), () => {
    if (ctx.reply !== undefined) {
      sendLocalReply(ctx, route.pipeline, runtime.requestIdHeader);
      return;
    }
    call = forward(runtime, ctx, route, scan);
  }, ctx, runtime, route.pipeline);
}

/** Runs `next` after the chain, synchronously when the chain was synchronous. */
function continueWith(result: void | Promise<void>, next: () => void, ctx: RequestContext, runtime: GatewayRuntime, pipeline: Pipeline = runtime.notFound): void {
  const fail = (error: unknown) => sendError(ctx, pipeline, asGatewayError(error), runtime.requestIdHeader);
  if (result === undefined) {
    try {
      next();
    } catch (error) {
      fail(error);
    }
    return;
  }
  result.then(next, fail).catch(fail);
}

function forward(runtime: GatewayRuntime, ctx: RequestContext, route: CompiledRoute, scan: ScannedHead): ForwardCall {
  const upstream = route.upstream;
  const target = upstream.targets[0]!;
  const path = upstreamPath(route, ctx.path);
  const call = new ForwardCall(ctx, {
    upstream,
    pipeline: route.pipeline,
    path: ctx.query === '' ? path : `${path}?${ctx.query}`,
    headers: buildUpstreamHeaders(ctx, scan, route, target.hostHeader, runtime.requestIdHeader),
    hasBody: scan.hasBody,
    requestIdHeader: runtime.requestIdHeader,
  });
  ctx.bytesIn = scan.contentLength ?? 0;
  const limit = ctx.maxBodyBytes;
  if (scan.hasBody && scan.contentLength === undefined) countStreamedBody(ctx, call, limit);
  call.start();
  return call;
}

/** A chunked body is counted as it streams; past the limit the exchange is aborted with 413. */
function countStreamedBody(ctx: RequestContext, call: ForwardCall, limit: number | undefined): void {
  ctx.req.on('data', (chunk: Buffer) => {
    ctx.bytesIn += chunk.length;
    if (limit !== undefined && ctx.bytesIn > limit) {
      call.abort(new GatewayError('GW_REQUEST_TOO_LARGE', { reason: `streamed body over ${limit} bytes`, detail: 'The request body is too large.' }));
    }
  });
}

function finishRequest(runtime: GatewayRuntime, ctx: RequestContext, pipeline: Pipeline): void {
  const seconds = (performance.now() - ctx.startedAt) / 1000;
  const aborted = !ctx.res.writableFinished;
  const status = aborted && ctx.status === 0 ? 499 : ctx.status || ctx.res.statusCode;
  ctx.status = status;
  runtime.deps.metrics.request(ctx.route?.name ?? '*', ctx.method, status, seconds);
  pipeline.runLog(ctx);
  if (runtime.accessLog) writeAccessLog(runtime.deps.logger, ctx, seconds, aborted);
  runtime.release();
}

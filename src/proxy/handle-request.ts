import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { RequestContext } from '../core/context.js';
import type { Pipeline } from '../core/pipeline.js';
import { GatewayError } from '../errors/index.js';
import { ForwardCall } from './forward.js';
import { prepareRequest, routeRequest } from './prepare.js';
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
    // Overloaded: refuse before routing and policies spend anything (docs/operations.md, load shedding).
    const shedder = runtime.deps.loadShedder;
    if (shedder !== undefined && shedder.shedding) {
      sendError(ctx, pipeline, shedder.reject(), runtime.requestIdHeader);
      return;
    }
    const routed = routeRequest(runtime, ctx);
    if (routed instanceof GatewayError) {
      // The global chain still runs first: a denied IP learns nothing about which paths exist.
      return continueWith(() => runtime.notFound.runRequest(ctx), () => {
        if (ctx.reply !== undefined) sendLocalReply(ctx, runtime.notFound, runtime.requestIdHeader);
        else sendError(ctx, runtime.notFound, routed, runtime.requestIdHeader);
      }, ctx, runtime);
    }
    route = routed;
    pipeline = route.pipeline;
  } catch (error) {
    sendError(ctx, pipeline, asGatewayError(error), runtime.requestIdHeader);
    return;
  }

  continueWith(() => route.pipeline.runRequest(ctx), () => {
    if (ctx.reply !== undefined) {
      sendLocalReply(ctx, route.pipeline, runtime.requestIdHeader);
      return;
    }
    call = forward(runtime, ctx, route, scan);
  }, ctx, runtime, route.pipeline);
}

/** Runs the chain, then `next`: synchronously when the chain was synchronous. A denial goes to sendError. */
function continueWith(
  chain: () => void | Promise<void>,
  next: () => void,
  ctx: RequestContext,
  runtime: GatewayRuntime,
  pipeline: Pipeline = runtime.notFound,
): void {
  const fail = (error: unknown) => {
    ctx.spans?.endPhases(ctx);
    sendError(ctx, pipeline, asGatewayError(error), runtime.requestIdHeader);
  };
  let result: void | Promise<void>;
  try {
    result = chain();
    if (result === undefined) {
      ctx.spans?.endPhases(ctx);
      next();
      return;
    }
  } catch (error) {
    fail(error);
    return;
  }
  const spans = ctx.spans;
  result
    .then(
      spans === undefined
        ? next
        : () => {
            spans.endPhases(ctx);
            next();
          },
    )
    .catch(fail);
}

function forward(runtime: GatewayRuntime, ctx: RequestContext, route: CompiledRoute, scan: ScannedHead): ForwardCall {
  const upstream = route.upstream;
  const target = upstream.targets[0]!;
  const path = upstreamPath(route, ctx.path);
  const call: ForwardCall = new ForwardCall(ctx, {
    upstream,
    pipeline: route.pipeline,
    path: ctx.query === '' ? path : `${path}?${ctx.query}`,
    headers: buildUpstreamHeaders(ctx, scan, route, target.hostHeader, runtime.requestIdHeader),
    body: !scan.hasBody ? null : ctx.body !== undefined ? ctx.body : scan.contentLength === undefined ? countedBody(ctx, (): ForwardCall => call) : ctx.req,
    requestIdHeader: runtime.requestIdHeader,
    preserveHost: route.preserveHost,
  });
  // A body a policy buffered (ctx.body, see context.ts) goes to undici as the Buffer itself (one
  // write, no stream: ~8 us less per request than a Readable over it); its length is what came in.
  ctx.bytesIn = ctx.body?.length ?? scan.contentLength ?? 0;
  call.start();
  return call;
}

/**
 * A chunked body has no declared size: it is counted as it streams (for the log, and against
 * `request-size-limit`), and past the limit the exchange is aborted with 413. A Transform keeps
 * undici's back-pressure on the client socket intact.
 */
function countedBody(ctx: RequestContext, call: () => ForwardCall): Transform {
  const limit = ctx.maxBodyBytes;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      ctx.bytesIn += chunk.length;
      if (limit !== undefined && ctx.bytesIn > limit) {
        call().abort(new GatewayError('GW_REQUEST_TOO_LARGE', { reason: `streamed body over ${limit} bytes`, detail: 'The request body is too large.' }));
        done();
        return;
      }
      done(null, chunk);
    },
  });
  ctx.req.on('error', (error) => counter.destroy(error));
  return ctx.req.pipe(counter);
}

function finishRequest(runtime: GatewayRuntime, ctx: RequestContext, pipeline: Pipeline): void {
  const seconds = (performance.now() - ctx.startedAt) / 1000;
  const aborted = !ctx.res.writableFinished;
  const status = aborted && ctx.status === 0 ? 499 : ctx.status || ctx.res.statusCode;
  ctx.status = status;
  runtime.deps.metrics.request(ctx.route?.name ?? '*', ctx.method, status, seconds, ctx.principal?.consumerId ?? ctx.principal?.subject);
  pipeline.runLog(ctx);
  runtime.deps.audit?.observe(ctx);
  if (runtime.accessLog && runtime.accessSampler.keep(ctx)) runtime.deps.accessLog?.write(ctx, seconds, aborted);
  ctx.spans?.end(ctx);
  runtime.release();
}

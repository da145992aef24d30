import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestContext } from '../core/context.js';
import { HeaderList } from '../core/header-list.js';
import type { Pipeline } from '../core/pipeline.js';
import { GatewayError } from '../errors/index.js';
import { BufferedResponse, responseTooLarge } from './response-body.js';
import { asGatewayError, sendError } from './respond.js';
import type { Upstream } from './upstream.js';
import type { UpstreamTarget } from './upstream-target.js';
import { lastValueIndex } from './upstream-headers.js';

/** Response headers that belong to the upstream connection, not to the client's (RFC 9110 section 7.6.1). */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/**
 * The connection was closed or reset under the request before any response byte: the classic race
 * of a pooled keep-alive connection the upstream closed while the request was on its way.
 */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export interface ForwardRequest {
  readonly upstream: Upstream;
  readonly pipeline: Pipeline;
  readonly path: string;
  readonly headers: string[];
  /** The client's body (or a counting stream over it; or the Buffer a policy read), null when the request has none. */
  readonly body: Readable | Buffer | null;
  readonly requestIdHeader: string;
  /** Keep the client's Host; otherwise every attempt names the target it goes to (RFC 9110 section 7.2). */
  readonly preserveHost: boolean;
}

/**
 * One proxied exchange over undici's raw dispatch handler: the cheapest path undici offers (no
 * stream objects, no header objects), with back-pressure both ways: `onData` returning false pauses
 * the upstream socket until the client drains, and the request body is piped by undici itself.
 * The legacy handler form (onConnect/onHeaders/...) is the one undici 7 runs without a wrapper.
 */
export class ForwardCall implements Dispatcher.DispatchHandler {
  private abortUpstream: ((reason?: Error) => void) | undefined;
  private abortReason: Error | undefined;
  private resume: (() => void) | undefined;
  private totalTimer: NodeJS.Timeout | undefined;
  private started = false;
  private done = false;
  private attemptOpen = false;
  private attempts = 0;
  /** One retry on a fresh connection after a reset (see `canRetryStale`); never more. */
  private staleRetried = false;
  private target: UpstreamTarget | undefined;
  /** Targets already tried, so a retry goes somewhere else; allocated only on a retry. */
  private tried: UpstreamTarget[] | undefined;
  /** Set while the body is held back for a response policy (see response-body.ts). */
  private buffered: BufferedResponse | undefined;
  /** Index of the Host value in `request.headers`. */
  private readonly hostIndex: number;
  /** Index of the traceparent value, when this request has spans (each attempt names its CLIENT span). */
  private readonly traceparentIndex: number;

  constructor(
    private readonly ctx: RequestContext,
    private readonly request: ForwardRequest,
  ) {
    this.hostIndex = request.preserveHost ? -1 : lastValueIndex(request.headers, 'host');
    this.traceparentIndex = ctx.spans === undefined ? -1 : lastValueIndex(request.headers, 'traceparent');
  }

  start(): void {
    const { upstream } = this.request;
    if (upstream.totalTimeoutMs > 0) {
      this.totalTimer = setTimeout(
        () => this.abort(new GatewayError('GW_UPSTREAM_TIMEOUT', { reason: 'total upstream timeout' })),
        upstream.totalTimeoutMs,
      );
    }
    this.dispatchTo(upstream.pick(upstream.now()));
  }

  private dispatchTo(target: UpstreamTarget | undefined): void {
    const { ctx, request } = this;
    if (target === undefined) {
      this.settle(request.upstream.unavailable(request.upstream.now()));
      return;
    }
    this.target = target;
    if (this.hostIndex !== -1) request.headers[this.hostIndex] = target.hostHeader;
    this.attempts++;
    this.attemptOpen = true;
    this.abortUpstream = undefined;
    target.inflight++;
    ctx.upstreamTarget = target.origin;
    ctx.upstreamStartedAt = performance.now();
    if (this.traceparentIndex !== -1) request.headers[this.traceparentIndex] = ctx.spans!.startClient(ctx, target.origin, request.path, this.attempts);
    target.pool.dispatch(
      { origin: target.origin, method: ctx.method, path: request.path, headers: request.headers, body: request.body },
      this,
    );
  }

  /** A limit tripped or the total timeout fired: stop talking to the upstream and answer with `reason`. */
  abort(reason: GatewayError): void {
    if (this.done) return;
    this.abortReason = reason;
    if (this.abortUpstream !== undefined) this.abortUpstream(reason); // undici answers with onError(reason)
    else this.settle(reason); // still queued in the pool: onConnect aborts it when its turn comes
  }

  /** The client went away: stop the upstream exchange, answer nobody. */
  clientClosed(): void {
    if (this.done) return;
    this.finish();
    this.abortReason = new Error('client closed the connection');
    this.abortUpstream?.(this.abortReason);
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.done) abort(this.abortReason);
    else this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.done) return false;
    if (statusCode < 200) return true; // 1xx: informational, not relayed (100-continue is answered by Node itself)
    const { ctx, request } = this;
    this.started = true;
    this.resume = resume;
    ctx.upstreamLatencyMs = performance.now() - ctx.upstreamStartedAt;
    request.upstream.recordLatency(ctx.upstreamLatencyMs / 1000);
    ctx.status = statusCode;
    const head = new HeaderList();
    let connectionListed: string | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1').toLowerCase();
      const value = rawHeaders[i + 1]!.toString('latin1');
      if (HOP_BY_HOP.has(name)) {
        if (name === 'connection') connectionListed = value;
        continue;
      }
      head.entries.push(name, value);
    }
    if (connectionListed !== undefined) for (const token of connectionListed.split(',')) head.delete(token.trim().toLowerCase());
    head.set(request.requestIdHeader, ctx.requestId);
    request.pipeline.runResponse(ctx, head, statusCode);
    const bodyless = ctx.method === 'HEAD' || statusCode === 204 || statusCode === 304;
    const plan = bodyless ? undefined : request.pipeline.planResponseBody(ctx, head, statusCode);
    if (plan !== undefined) this.buffered = new BufferedResponse(plan, head, statusCode);
    else ctx.res.writeHead(statusCode, head.entries);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    if (this.buffered !== undefined) return this.holdBack(this.buffered, chunk);
    return this.send(chunk);
  }

  private send(chunk: Buffer): boolean {
    this.ctx.bytesOut += chunk.length;
    if (this.ctx.res.write(chunk)) return true;
    this.ctx.res.once('drain', this.resume!);
    return false;
  }

  /** Keeps a chunk for the response policies; past their cap, blocks (502) or streams the rest unchecked. */
  private holdBack(buffered: BufferedResponse, chunk: Buffer): boolean {
    if (buffered.push(chunk)) return true;
    const reason = `body over ${buffered.plan.request.maxBytes} bytes`;
    if (buffered.plan.request.overflow === 'block') {
      this.abort(responseTooLarge(reason));
      return false;
    }
    this.ctx.recordMonitorHit({ policy: buffered.plan.steps[0]!.name, code: 'GW_RESPONSE_TOO_LARGE', reason: `response body not inspected: ${reason}` });
    this.buffered = undefined;
    this.ctx.res.writeHead(buffered.status, buffered.head.entries);
    let flowing = true;
    for (const held of buffered.takeChunks()) flowing = this.send(held);
    return flowing;
  }

  onComplete(): void {
    if (this.done) return;
    this.endAttempt(undefined);
    this.request.upstream.recordSuccess(this.target!, this.request.upstream.now(), this.ctx.status);
    if (this.buffered !== undefined) {
      this.abortUpstream = undefined; // the exchange is over: a timeout now answers directly
      return this.completeBuffered(this.buffered);
    }
    this.finish();
    this.ctx.res.end();
  }

  /** The held-back body is whole: the response policies read or rewrite it, then it goes out in one write. */
  private completeBuffered(buffered: BufferedResponse): void {
    let body: Buffer | Promise<Buffer>;
    try {
      body = buffered.complete(this.ctx, this.request.pipeline);
    } catch (error) {
      return this.settle(asGatewayError(error));
    }
    // Synchronous hooks (the usual case): the response goes out now, without a promise hop.
    if (Buffer.isBuffer(body)) return this.sendBuffered(buffered, body);
    body.then(
      (b) => this.sendBuffered(buffered, b),
      (error: unknown) => this.settle(asGatewayError(error)),
    );
  }

  private sendBuffered(buffered: BufferedResponse, body: Buffer): void {
    if (this.done) return;
    const { ctx } = this;
    this.finish();
    ctx.bytesOut = body.length;
    ctx.res.writeHead(buffered.status, buffered.head.entries);
    ctx.res.end(body);
  }

  onError(error: Error): void {
    this.endAttempt(error instanceof GatewayError ? error.code : ((error as { code?: string }).code ?? error.name));
    if (this.done) return;
    const { request } = this;
    if (error instanceof GatewayError) {
      // The total timeout is the upstream's failure too (passive health, circuit breaker).
      if (error.code === 'GW_UPSTREAM_TIMEOUT') request.upstream.recordFailure(this.target!, request.upstream.now(), 'TOTAL_TIMEOUT');
      this.settle(error);
      return;
    }
    const code = (error as { code?: string }).code ?? 'UNKNOWN';
    if (!this.started && this.canRetryStale(code)) {
      // Not the target's failure (its health and circuit are untouched): the same target, on a new connection.
      this.staleRetried = true;
      return this.dispatchTo(this.target!);
    }
    request.upstream.recordFailure(this.target!, request.upstream.now(), code);
    if (!this.started && this.canRetry(code)) {
      (this.tried ??= []).push(this.target!);
      const next = request.upstream.pick(request.upstream.now(), this.tried);
      // No other target left: the client learns the real failure (502/504), not "no healthy upstream".
      if (next !== undefined) return this.dispatchTo(next);
    }
    this.settle(upstreamError(error, code, request.upstream.name));
  }

  private canRetry(code: string): boolean {
    return CONNECT_FAILURES.has(code) && this.replayable() && this.attempts <= this.request.upstream.retries;
  }

  /**
   * A reset before any response byte, on a bodyless idempotent request, is retried once on the same
   * target (RFC 9110 section 9.2.2 allows repeating idempotent requests). The pool hands out a fresh
   * connection: the reset one is gone. Once only, so a request that itself makes the upstream drop
   * the connection costs it at most two attempts.
   */
  private canRetryStale(code: string): boolean {
    return STALE_CONNECTION.has(code) && !this.staleRetried && this.replayable();
  }

  /** Nothing consumed that cannot be sent again, and still someone to answer. */
  private replayable(): boolean {
    return this.request.body === null && IDEMPOTENT.has(this.ctx.method) && !this.ctx.res.destroyed;
  }

  /** Ends the exchange with an error: a problem+json if nothing was sent yet, a cut connection otherwise. */
  private settle(error: GatewayError): void {
    if (this.done) return;
    this.finish();
    if (this.ctx.res.headersSent) this.ctx.res.destroy();
    else sendError(this.ctx, this.request.pipeline, error, this.request.requestIdHeader);
  }

  private endAttempt(failure: string | undefined): void {
    if (!this.attemptOpen) return;
    this.attemptOpen = false;
    this.target!.inflight--;
    this.ctx.spans?.endClient(this.started ? this.ctx.status : 0, failure);
  }

  private finish(): void {
    this.done = true;
    if (this.totalTimer !== undefined) clearTimeout(this.totalTimer);
  }
}

function upstreamError(error: Error, code: string, upstream: string): GatewayError {
  const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  return new GatewayError(timeout ? 'GW_UPSTREAM_TIMEOUT' : 'GW_UPSTREAM_UNAVAILABLE', {
    reason: `upstream ${upstream}: ${code}`,
    cause: error,
  });
}

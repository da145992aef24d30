import type { RequestContext } from '../../core/context.js';
import type { TracingConfig } from './config.js';
import type { SpanFactory } from './spans.js';
import { acceptTracestate, formatTraceparent, isSampled, newSpanId, newTraceId, outgoingFlags, parseTraceparent, RANDOM_TRACE_ID } from './trace-context.js';

/**
 * Per snapshot: decides each request's trace (continue or start one, sampled or not) and writes
 * the `traceparent` sent upstream. Always on; spans only when a SpanFactory is given.
 *
 * Who is believed: a valid `traceparent` is continued per `tracing.continueFrom` (by default only
 * from trusted proxies, like X-Request-Id). Trace Context section 7.2 names the risk of continuing
 * anyone's: forged trace-id collisions that mix a client's requests into other traces. The
 * sampled flag is never taken from a client: the gateway draws its own, so a client sending
 * `-01` on every request cannot make it export (or its upstreams record) everything. A trusted
 * proxy's flag is followed (parent-based sampling across our own tiers).
 */
export class TracePropagation {
  private readonly continueFrom: TracingConfig['continueFrom'];
  private readonly ratio: number;

  constructor(
    config: TracingConfig,
    private readonly spans: SpanFactory | undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.continueFrom = config.continueFrom;
    this.ratio = config.sampleRatio;
  }

  /** Sets ctx.traceId, traceFlags, traceState (and ctx.spans when sampled and tracing is on). */
  start(ctx: RequestContext, traceparent: string | string[] | undefined, tracestate: string | string[] | undefined): void {
    const incoming = typeof traceparent === 'string' ? parseTraceparent(traceparent) : undefined;
    const trusted = this.continueFrom === 'anyone' || (this.continueFrom === 'trusted-proxies' && ctx.fromTrustedProxy);
    let sampled: boolean;
    let parentId: string | undefined;
    if (incoming !== undefined && trusted) {
      ctx.traceId = incoming.traceId;
      parentId = incoming.parentId;
      sampled = ctx.fromTrustedProxy ? isSampled(incoming.flags) : this.draw();
      ctx.traceFlags = outgoingFlags(sampled, (incoming.flags & RANDOM_TRACE_ID) !== 0);
      ctx.traceState = acceptTracestate(tracestate);
    } else {
      // Restart (section 3.4): new id and flags, and the caller's tracestate is dropped with its trace.
      ctx.traceId = newTraceId();
      sampled = this.draw();
      ctx.traceFlags = outgoingFlags(sampled, true);
    }
    if (sampled && this.spans !== undefined) {
      const link = incoming !== undefined && parentId === undefined ? { traceId: incoming.traceId, spanId: incoming.parentId } : undefined;
      ctx.spans = this.spans.start(ctx, parentId, link);
    }
  }

  private draw(): boolean {
    return this.ratio >= 1 || (this.ratio > 0 && this.random() < this.ratio);
  }
}

/**
 * The `traceparent` for the upstream request: the trace, a span id of the gateway's own and the
 * flags. With spans, ForwardCall replaces the value per attempt with its CLIENT span's id.
 */
export function upstreamTraceparent(ctx: RequestContext): string {
  return formatTraceparent(ctx.traceId, newSpanId(), ctx.traceFlags);
}

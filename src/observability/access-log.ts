import type { Logger } from 'pino';
import type { RequestContext } from '../core/context.js';

/**
 * One JSON line per request: what was asked, what was decided and by which policy, what it cost.
 * The query string and headers are never logged (they carry credentials); every string is JSON
 * escaped by pino, so CR/LF or ANSI sequences a client sends cannot start a forged line.
 */
export function writeAccessLog(logger: Logger, ctx: RequestContext, seconds: number, aborted: boolean): void {
  const decision = ctx.decision;
  logger.info({
    type: 'access',
    request_id: ctx.requestId,
    client_ip: ctx.clientIp,
    method: ctx.method,
    host: ctx.host,
    path: ctx.path,
    route: ctx.route?.name ?? null,
    status: ctx.status,
    latency_ms: Math.round(seconds * 1e6) / 1e3,
    upstream: ctx.upstreamName ?? null,
    upstream_target: ctx.upstreamTarget ?? null,
    upstream_latency_ms: ctx.upstreamLatencyMs === undefined ? null : Math.round(ctx.upstreamLatencyMs * 1e3) / 1e3,
    bytes_in: ctx.bytesIn,
    bytes_out: ctx.bytesOut,
    principal: ctx.principal?.consumerId ?? ctx.principal?.subject ?? null,
    decision: decision.outcome,
    policy: decision.policy ?? null,
    code: decision.code ?? null,
    reason: decision.reason ?? null,
    monitor: ctx.monitorHits ?? undefined,
    aborted: aborted || undefined,
  });
}

import { hostname, userInfo } from 'node:os';
import type { RequestContext } from '../core/context.js';
import type { JsonObject } from '../storage/types.js';
import { clip, type AuditEntry, type AuditKind } from './record.js';

const NOT_FOUND_CODES = new Set(['GW_ROUTE_NOT_FOUND', 'GW_METHOD_NOT_ALLOWED']);

export interface DecisionFilter {
  readonly monitor: boolean;
  readonly notFound: boolean;
}

/**
 * The audit entries one finished request produces: its denial or fail-closed error, and each
 * monitor-mode would-be denial. Allowed requests produce none, so the common path costs one check.
 */
export function decisionEntries(ctx: RequestContext, now: number, include: DecisionFilter, out: AuditEntry[]): void {
  const d = ctx.decision;
  const denied = d.outcome === 'deny' || d.outcome === 'error';
  if (!denied && ctx.monitorHits === undefined) return;
  const base = {
    ts: now,
    kind: 'decision' as const,
    actor: ctx.principal?.consumerId ?? ctx.principal?.subject ?? null,
    source: ctx.clientIp || null,
    target: clip(`${ctx.method} ${ctx.path}`),
    route: ctx.route?.name ?? null,
    requestId: ctx.requestId || null,
  };
  // The W3C trace id leads from a record to the request's trace (docs/tracing.md).
  const detail: JsonObject = ctx.traceId === '' ? { status: ctx.status } : { status: ctx.status, traceId: ctx.traceId };
  if (denied && (include.notFound || !NOT_FOUND_CODES.has(d.code ?? ''))) {
    out.push({
      ...base,
      action: `request.${d.outcome}`,
      outcome: d.outcome,
      policy: d.policy ?? null,
      code: d.code ?? null,
      reason: clip(d.reason),
      detail,
    });
  }
  if (include.monitor && ctx.monitorHits !== undefined) {
    for (const hit of ctx.monitorHits) {
      out.push({ ...base, action: 'request.monitor', outcome: 'monitor', policy: hit.policy, code: hit.code, reason: clip(hit.reason), detail });
    }
  }
}

/** Who runs a CLI command: the OS user and host, since the CLI has no other identity. */
export function cliActor(): { actor: string; source: string } {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): stays unknown
  }
  return { actor: `cli:${user}@${hostname()}`, source: hostname() };
}

/** An entry for a change made by an operator or by the gateway itself (config, consumers, keys, bans). */
export function changeEntry(
  kind: Exclude<AuditKind, 'decision' | 'checkpoint'>,
  who: { actor: string; source: string | null },
  action: string,
  target: string | null,
  outcome: string,
  now: number,
  detail: JsonObject | null = null,
  reason: string | null = null,
): AuditEntry {
  return { ts: now, kind, action, outcome, actor: who.actor, source: who.source, target, route: null, policy: null, code: null, reason, requestId: null, detail };
}

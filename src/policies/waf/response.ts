import type { RequestContext } from '../../core/context.js';
import type { HeaderList } from '../../core/header-list.js';
import type { ResponseBodyRequest } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import { BudgetExceededError } from '../../waf/engine/evaluate.js';
import type { Transaction } from '../../waf/engine/transaction.js';
import type { WafEngine } from '../../waf/engine/waf-engine.js';
import type { InTurn } from './batch.js';

/** Where `handle` leaves the request's transaction: CRS response rules read the TX variables the request phases set. */
export const WAF_TRANSACTION = 'waf:transaction';

/** The media type without parameters, lower-cased. */
function mediaType(head: HeaderList): string {
  const value = head.get('content-type') ?? '';
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/**
 * CRS phases 3 and 4 (RESPONSE-950..959: SQL errors, stack traces, directory listings, web
 * shells): the body is held back through the core response-body hook, for the configured media
 * types only and up to a cap. A larger body goes out uninspected (ModSecurity's ProcessPartial
 * would inspect its start; we say so in the decision line rather than pretend). `inTurn` runs the
 * inspection now or with the turn's other evaluations (batch.ts).
 */
export function responseInspection(engine: WafEngine, mimeTypes: readonly string[], maxBytes: number, onBudgetExceeded: 'block' | 'allow', inTurn: InTurn) {
  const types = new Set(mimeTypes);
  const request: ResponseBodyRequest = { maxBytes, overflow: 'pass' };

  function inspect(ctx: RequestContext, body: Buffer, head: HeaderList, status: number): Buffer {
    const tx = ctx.state.get(WAF_TRANSACTION) as Transaction;
    const headers: [string, string][] = [];
    for (let i = 0; i < head.entries.length; i += 2) headers.push([head.entries[i]!, head.entries[i + 1]!]);
    try {
      engine.evaluateResponse(tx, { status, protocol: `HTTP/${ctx.req.httpVersion}`, headers, body });
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      if (onBudgetExceeded === 'allow') return body;
      throw new GatewayError('GW_WAF_BLOCKED', { reason: `waf: response ${error.message}`, detail: 'The response was blocked by the web application firewall.' });
    }
    if (tx.interruption === undefined) return body;
    const leaks = tx.matches.filter((m) => m.logged && m.id >= 950000 && m.id < 960000).map((m) => m.id);
    throw new GatewayError('GW_WAF_BLOCKED', {
      reason: `waf: rule ${tx.interruption.ruleId} blocked the response, outbound score ${tx.getTx('blocking_outbound_anomaly_score') ?? '?'}; matched ${leaks.join(', ') || 'none'}`,
      detail: 'The response was blocked by the web application firewall.',
    });
  }

  return {
    wantsResponseBody(ctx: RequestContext, head: HeaderList): ResponseBodyRequest | undefined {
      const tx = ctx.state.get(WAF_TRANSACTION) as Transaction | undefined;
      if (tx === undefined || tx.interruption !== undefined) return undefined;
      return types.has(mediaType(head)) ? request : undefined;
    },
    onResponseBody(ctx: RequestContext, body: Buffer, head: HeaderList, status: number): Buffer | Promise<Buffer> {
      return inTurn(() => inspect(ctx, body, head, status));
    },
  };
}

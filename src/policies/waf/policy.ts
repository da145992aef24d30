import path from 'node:path';
import { bufferBody, hasBody } from '../../core/request-body.js';
import { parseByteSize } from '../../config/units.js';
import type { RequestContext } from '../../core/context.js';
import type { PolicyDeps, PolicyInstance } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import { BudgetExceededError } from '../../waf/engine/evaluate.js';
import type { Transaction } from '../../waf/engine/transaction.js';
import { BODY_ERROR_RULES, WafEngine } from '../../waf/engine/waf-engine.js';
import type { WafRequest } from '../../waf/request.js';
import { TurnBatch, type InTurn } from './batch.js';
import { responseInspection, WAF_TRANSACTION } from './response.js';
import { compiledCrs } from './settings.js';
import type { WafConfig } from './schema.js';

/** The request as the engine reads it: the target and headers exactly as received (latin1, as Node decodes them). */
function toWafRequest(ctx: RequestContext, body: Buffer | undefined): WafRequest {
  const raw = ctx.req.rawHeaders;
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
  return {
    method: ctx.method,
    uri: ctx.req.url ?? '/',
    protocol: `HTTP/${ctx.req.httpVersion}`,
    headers,
    body,
    remoteAddr: ctx.clientIp,
    remotePort: ctx.req.socket.remotePort,
    serverPort: ctx.req.socket.localPort,
  };
}

/** The decision-log reason: the rule that blocked, the score, and the rules that added to it (ids and messages, never values). */
function blockReason(tx: Transaction): string {
  const blocker = tx.interruption?.ruleId;
  const score = tx.getTx('blocking_inbound_anomaly_score') ?? '?';
  const matched = tx.matches
    .filter((m) => m.logged && m.id !== blocker)
    .slice(0, 20)
    .map((m) => `${m.id}${m.msg ? ` (${m.msg.slice(0, 80)})` : ''}`);
  return `waf: rule ${blocker} blocked the request, inbound score ${score}; matched ${matched.join(', ') || 'none'}`;
}

export function createWafPolicy(config: WafConfig, deps: PolicyDeps): PolicyInstance {
  const crsDir = path.resolve(deps.configDir, config.crsDir);
  const responseBodyLimit = parseByteSize(config.responses.maxBodyBytes);
  let engine: WafEngine;
  try {
    const ruleSet = compiledCrs(crsDir, config);
    engine = new WafEngine(ruleSet, { maxOperatorCalls: config.maxOperatorCalls, responseBodyLimit });
    for (const problem of ruleSet.problems) deps.logger.warn({ policy: 'waf', route: deps.routeName, problem }, 'waf: rule not loaded');
  } catch (error) {
    throw new Error(`waf: cannot load the Core Rule Set from ${crsDir}: ${(error as Error).message}`, { cause: error });
  }
  const maxBody = parseByteSize(config.maxBodyBytes);
  // Reporting off: the CRS's phase 5 does nothing else, so it is not run.
  const reports = config.reportingLevel > 0;
  const keepsTransaction = config.responses.inspect || reports;

  function evaluate(ctx: RequestContext, body: Buffer | undefined): void {
    let tx: Transaction;
    try {
      tx = engine.evaluateRequest(toWafRequest(ctx, body));
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      if (config.onBudgetExceeded === 'allow') {
        deps.logger.warn({ policy: 'waf', request_id: ctx.requestId, rule: error.ruleId }, 'waf: budget exhausted, request allowed');
        return;
      }
      throw new GatewayError('GW_WAF_BLOCKED', { reason: `waf: ${error.message}`, detail: 'The request was blocked by the web application firewall.' });
    }
    // Kept for the response rules and, once the exchange is over, the logging phase (`log` below),
    // when the route has either.
    if (keepsTransaction) ctx.state.set(WAF_TRANSACTION, tx);
    if (tx.interruption === undefined) {
      if (keepsTransaction) engine.parkForResponse(tx);
      return;
    }
    const bodyError = BODY_ERROR_RULES.get(tx.interruption.ruleId);
    if (bodyError !== undefined) {
      // Where parsing failed (a description and a byte offset: the parsers' messages never quote the body).
      const why = tx.scalars.get('REQBODY_ERROR_MSG') || bodyError;
      throw new GatewayError('GW_WAF_BODY_INVALID', { reason: `waf: rule ${tx.interruption.ruleId} refused the body: ${why}`, detail: 'The request body could not be parsed as its Content-Type declares.' });
    }
    throw new GatewayError('GW_WAF_BLOCKED', { reason: blockReason(tx), detail: 'The request was blocked by the web application firewall.' });
  }

  // One batch for this engine's requests and responses: both phases' code and data stay cached (batch.ts).
  const batch = config.batch ? new TurnBatch() : undefined;
  const inTurn: InTurn = batch === undefined ? (job) => job() : (job) => batch.run(job);
  const responses = config.responses.inspect ? responseInspection(engine, config.responses.mimeTypes, responseBodyLimit, config.onBudgetExceeded, inTurn) : {};
  /**
   * CRS phase 5 on the finished exchange, blocked or not: its logged matches (980170's anomaly
   * score report, at the route's reporting level) become warn lines. Rule ids and messages only,
   * never matched values (980170's message holds scores alone).
   */
  function report(ctx: RequestContext): void {
    const tx = ctx.state.get(WAF_TRANSACTION) as Transaction | undefined;
    if (tx === undefined) return;
    const before = tx.matches.length;
    try {
      engine.evaluateLogging(tx);
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      deps.logger.warn({ policy: 'waf', request_id: ctx.requestId, rule: error.ruleId }, 'waf: budget exhausted in the logging phase');
      return;
    }
    for (let i = before; i < tx.matches.length; i++) {
      const m = tx.matches[i]!;
      if (m.logged) deps.logger.warn({ policy: 'waf', route: deps.routeName, request_id: ctx.requestId, rule: m.id }, `waf: ${m.msg}`);
    }
  }

  return {
    ...responses,
    handle(ctx) {
      if (!config.inspectBody || !hasBody(ctx)) return inTurn(() => evaluate(ctx, undefined));
      return bufferBody(ctx, maxBody, 'waf').then((body) => inTurn(() => evaluate(ctx, body)));
    },
    ...(reports ? { log: report } : {}),
  };
}

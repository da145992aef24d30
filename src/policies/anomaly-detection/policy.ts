import { changeEntry } from '../../audit/entries.js';
import type { RequestContext } from '../../core/context.js';
import type { PolicyDeps, PolicyInstance } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import { acquireEngine, releaseEngine, type Action, type EngineFinding } from './engine.js';
import type { AnomalyDetectionConfig } from './schema.js';

/** Our own denials are not evidence: a banned client's 403s must not extend its ban. */
const OWN_CODES = new Set(['GW_CLIENT_BANNED', 'GW_CLIENT_THROTTLED']);

/**
 * `handle` (phase onRequest) refuses banned and throttled IPs from a local map: no I/O per request.
 * `log` feeds every finished request to the detectors, per IP and per consumer, and acts on what
 * they find. Allow-listed sources are neither counted nor refused.
 */
export function createAnomalyDetectionPolicy(config: AnomalyDetectionConfig, deps: PolicyDeps): PolicyInstance {
  const engine = acquireEngine(config, deps);
  const { logger, now } = deps;

  const RANK: Record<Action, number> = { alert: 0, throttle: 1, ban: 2 };

  /** Every finding is logged and audited; the IP gets the strongest action among them, once. */
  const act = (ctx: RequestContext, findings: readonly EngineFinding[]): void => {
    const ip = ctx.clientIp;
    let strongest: (typeof findings)[number] | undefined;
    for (const f of findings) {
      logger.warn(
        { detector: f.finding.detector, reason: f.finding.reason, action: f.action, subject: f.subject, client_ip: ip, principal: ctx.principal?.consumerId ?? null, request_id: ctx.requestId },
        'anomaly detected',
      );
      deps.audit?.(
        changeEntry('ban', { actor: 'gateway', source: ip || null }, `anomaly.${f.action}`, `ip:${ip}`, f.action, now(), { detector: f.finding.detector, subject: f.subject, route: ctx.route?.name ?? null }, f.finding.reason),
      );
      engine.webhooks.send({
        type: `anomaly.${f.action}`,
        key: `${f.subject} ${f.finding.detector}`,
        data: { subject: f.subject, clientIp: ip, detector: f.finding.detector, reason: f.finding.reason, action: f.action, route: ctx.route?.name ?? null, requestId: ctx.requestId },
      });
      if (strongest === undefined || RANK[f.action] > RANK[strongest.action]) strongest = f;
    }
    if (strongest?.action === 'throttle') engine.throttle(ip, now());
    if (strongest?.action === 'ban') {
      const { finding } = strongest;
      void engine.bans.ban(`ip:${ip}`, finding.detector, finding.reason).catch((err: unknown) => logger.error({ err, client_ip: ip }, 'ban could not be shared'));
    }
  };

  return {
    handle(ctx) {
      engine.ensureStarted(logger);
      const ip = ctx.clientIp;
      if (engine.allowListed(ip)) return;
      const ban = engine.bans.active(`ip:${ip}`);
      if (ban !== undefined) {
        throw new GatewayError('GW_CLIENT_BANNED', {
          reason: `banned until ${new Date(ban.until).toISOString()} (strike ${ban.strike}) by ${ban.detector}: ${ban.reason}`,
          headers: { 'retry-after': String(Math.max(1, Math.ceil((ban.until - now()) / 1000))) },
        });
      }
      const wait = engine.throttledFor(ip, now());
      if (wait > 0) {
        throw new GatewayError('GW_CLIENT_THROTTLED', { reason: 'throttled after a rate anomaly', headers: { 'retry-after': String(Math.ceil(wait / 1000)) } });
      }
    },
    log(ctx) {
      const ip = ctx.clientIp;
      if (ip === '' || OWN_CODES.has(ctx.decision.code ?? '') || engine.allowListed(ip)) return;
      const route = ctx.route?.name ?? '*';
      const t = now();
      const consumer = ctx.principal?.consumerId;
      // Usually no detector fires: nothing is allocated beyond the detectors' own counters then.
      let findings = engine.subjects.has('ip') ? engine.observe(`ip:${ip}`, ctx, route, t) : undefined;
      if (consumer !== undefined && engine.subjects.has('consumer')) {
        const more = engine.observe(`consumer:${consumer}`, ctx, route, t);
        if (more !== undefined) findings = findings === undefined ? more : [...findings, ...more];
      }
      if (findings !== undefined) act(ctx, findings);
    },
    close: () => releaseEngine(engine, deps),
  };
}

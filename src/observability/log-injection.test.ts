import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { makeContext } from '../../test/helpers/context.js';
import { AccessLog } from './access-log.js';
import { createLogger } from './logger.js';
import { escapeUnsafeJson } from './safe-text.js';
import { AccessSampler } from './sampler.js';

/** Everything a log line must never carry raw: C0 controls, DEL, C1 controls (NEL, CSI), U+2028/2029. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const EVIL = 'a\r\nb\u001b[2Jc\u007fd\u0085e\u009b31mf\u2028g\u2029h\u0000';

function pinoCapture(redact: string[] = []) {
  const chunks: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, done) => (chunks.push(chunk.toString('utf8')), done()) });
  const logger = createLogger({ level: 'info', destination: 'stdout', redact }, stream as never);
  return { logger, text: () => chunks.join('') };
}

describe('log lines cannot be forged by client text', () => {
  it('escapes DEL, C1 controls and line separators that JSON.stringify leaves raw, keeping the value', () => {
    const line = JSON.stringify({ v: EVIL });
    expect(line).toMatch(/[\u007f\u0085\u009b\u2028]/); // JSON.stringify alone is not enough
    const safe = escapeUnsafeJson(line);
    expect(safe).not.toMatch(RAW_CONTROL);
    expect((JSON.parse(safe) as { v: string }).v).toBe(EVIL);
    expect(escapeUnsafeJson('{"clean":"line"}')).toBe('{"clean":"line"}');
  });

  it('writes one access line without raw control bytes whatever path, host, reason and monitor text hold', () => {
    const lines: string[] = [];
    const log = new AccessLog({ write: (l: string) => lines.push(l) });
    const ctx = makeContext();
    ctx.path = `/x${EVIL}`;
    ctx.host = EVIL;
    ctx.decision = { outcome: 'deny', policy: 'p', code: 'GW_BAD_REQUEST', reason: EVIL };
    ctx.recordMonitorHit({ policy: 'waf', code: 'GW_BAD_REQUEST', reason: EVIL });
    log.write(ctx, 0.001, false);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split('\n')).toHaveLength(2); // the line and the empty rest after its newline
    expect(lines[0]!.slice(0, -1)).not.toMatch(RAW_CONTROL);
    const entry = JSON.parse(lines[0]!) as { path: string; reason: string; monitor: { reason: string }[] };
    expect(entry.path).toBe(ctx.path);
    expect(entry.reason).toBe(EVIL);
    expect(entry.monitor[0]!.reason).toBe(EVIL);
  });

  it('keeps a pino line single and free of raw control bytes when a policy logs client text', () => {
    const { logger, text } = pinoCapture();
    logger.warn({ reason: EVIL, header: EVIL }, `message with ${EVIL}`);
    const out = text();
    expect(out.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(out.slice(0, -1)).not.toMatch(RAW_CONTROL);
    expect((JSON.parse(out) as { reason: string }).reason).toBe(EVIL);
  });
});

describe('credentials never reach the log', () => {
  it('redacts authorization, cookies, API keys and tokens, and the configured paths', () => {
    const { logger, text } = pinoCapture(['*.ssn', 'req.headers["x-session"]']);
    logger.info({
      req: { headers: { authorization: 'Bearer s3cret-a', cookie: 'sid=s3cret-b', 'x-api-key': 'pcl_s3cret-c', 'proxy-authorization': 'Basic s3cret-d', 'x-session': 's3cret-e', accept: 'text/html' } },
      headers: { 'set-cookie': 'sid=s3cret-f' },
      body: { token: 's3cret-g', apiKey: 's3cret-h', ssn: 's3cret-i', password: 's3cret-j' },
    });
    const out = text();
    expect(out).not.toContain('s3cret');
    expect(out).toContain('text/html');
    expect(out.match(/\[redacted\]/g)).toHaveLength(10);
  });
});

describe('AccessSampler', () => {
  const ctxFor = (route: string, outcome: 'allow' | 'deny' = 'allow') => {
    const ctx = makeContext();
    ctx.route = { name: route, methods: undefined };
    ctx.status = outcome === 'allow' ? 200 : 403;
    ctx.decision.outcome = outcome;
    return ctx;
  };

  it('keeps one allowed line in every 1/rate per route, and every denial', () => {
    const sampler = new AccessSampler({ default: 1, routes: { health: 0.1, silent: 0 } });
    const kept = (route: string, n: number, outcome: 'allow' | 'deny' = 'allow') =>
      Array.from({ length: n }, () => sampler.keep(ctxFor(route, outcome))).filter(Boolean).length;
    expect(kept('health', 100)).toBe(10);
    expect(kept('silent', 50)).toBe(0);
    expect(kept('orders', 30)).toBe(30);
    expect(kept('health', 20, 'deny')).toBe(20);
    expect(kept('silent', 5, 'deny')).toBe(5);
    expect(new AccessSampler({ default: 1, routes: {} }).keepsAll).toBe(true);
  });
});

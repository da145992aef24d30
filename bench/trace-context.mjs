// Per-request CPU of W3C trace context (always on) and of OpenTelemetry spans (tracing.enabled):
// what prepareRequest + buildUpstreamHeaders add, measured in process against randomUUID() (the
// request id every request already pays for). Needs dist/ (npm run build).
// Usage: node bench/trace-context.mjs [iterations]
import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import pino from 'pino';
import { RequestContext } from '../dist/core/context.js';
import { TracePropagation, upstreamTraceparent } from '../dist/observability/tracing/propagation.js';
import { createOtelSpans } from '../dist/observability/tracing/otel.js';

const N = Number(process.argv[2] ?? 200_000);
const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const base = { continueFrom: 'trusted-proxies', sampleRatio: 1, enabled: false };
const req = new IncomingMessage(new Socket());
const res = new ServerResponse(req);
const context = (trusted) => {
  const ctx = new RequestContext(req, res, performance.now());
  ctx.fromTrustedProxy = trusted;
  return ctx;
};

function measure(label, fn) {
  for (let i = 0; i < Math.min(N, 20_000); i++) fn(); // warm-up (JIT)
  const cpu = process.cpuUsage();
  for (let i = 0; i < N; i++) fn();
  const used = process.cpuUsage(cpu);
  const us = (used.user + used.system) / N;
  console.log(`${label.padEnd(64)} ${us.toFixed(3)} us`);
  return us;
}

let sink = 0;
const off = new TracePropagation(base, undefined);
measure('request id (randomUUID), for scale', () => (sink += randomUUID().length));
measure('context object alone', () => (sink += context(false).traceFlags));
measure('no traceparent: new trace + upstream traceparent', () => {
  const ctx = context(false);
  off.start(ctx, undefined, undefined);
  sink += upstreamTraceparent(ctx).length;
});
measure('trusted proxy traceparent + tracestate: continue + upstream', () => {
  const ctx = context(true);
  off.start(ctx, VALID, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
  sink += upstreamTraceparent(ctx).length;
});
measure('trusted proxy traceparent, no tracestate: continue + upstream', () => {
  const ctx = context(true);
  off.start(ctx, VALID, undefined);
  sink += upstreamTraceparent(ctx).length;
});
measure('client traceparent (restarted, default) + upstream', () => {
  const ctx = context(false);
  off.start(ctx, VALID, undefined);
  sink += upstreamTraceparent(ctx).length;
});
measure('malformed traceparent (upper case) + upstream', () => {
  const ctx = context(true);
  off.start(ctx, VALID.toUpperCase(), undefined);
  sink += upstreamTraceparent(ctx).length;
});

// Spans: nothing listens on the endpoint and the batch waits an hour, so this is span building
// only (export happens off the request path, in batches).
const logger = pino({ level: 'silent' });
const factory = await createOtelSpans(
  { ...base, enabled: true, serviceName: 'bench', endpoint: 'http://127.0.0.1:9/v1/traces', headers: {}, exportTimeout: '1s', batch: { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelay: 3_600_000 } },
  logger,
);
const on = new TracePropagation({ ...base, enabled: true }, factory);
const sampledOut = new TracePropagation({ ...base, enabled: true, sampleRatio: 0 }, factory);
measure('tracing enabled, not sampled (ratio 0)', () => {
  const ctx = context(false);
  sampledOut.start(ctx, VALID, undefined);
  sink += upstreamTraceparent(ctx).length;
});
measure('tracing enabled, sampled: server + 2 phases + client span', () => {
  const ctx = context(true);
  on.start(ctx, VALID, undefined);
  const spans = ctx.spans;
  spans.route('/users/{id}');
  spans.step('onRequest', 'ip-restriction');
  spans.step('onRequest', 'allowed-methods');
  spans.endPhases(ctx);
  sink += spans.startClient(ctx, 'http://127.0.0.1:3001', '/users/1', 1).length;
  spans.endClient(200, undefined);
  const t = performance.now();
  spans.phase('onResponse', ['security-headers'], t, t);
  ctx.status = 200;
  spans.end(ctx);
});
await factory.shutdown();
if (sink === 0) console.log('');

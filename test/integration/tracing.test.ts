import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { deadPort, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';
import { waitFor } from '../helpers/child-gateway.js';
import { KIND, OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';
import { parseTraceparent } from '../../src/observability/tracing/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const SECRET = 'query-secret-value-7731';

function config(tracing: string, server = ''): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
${server}
admin: { enabled: false }
tracing:
${tracing}
upstreams:
  up: { targets: [{ url: "{{UPSTREAM}}" }] }
policies:
  - name: ip-restriction
    config: { allow: ["127.0.0.0/8"] }
  - name: security-headers
routes:
  - name: users
    match: { paths: ["/users/{id}"] }
    forward: { upstream: up }
    policies:
      - name: allowed-methods
        config: { methods: [GET] }
  - name: blocked
    match: { paths: ["/blocked/*"] }
    forward: { upstream: up }
    policies:
      - name: ip-restriction
        config: { deny: ["127.0.0.0/8"] }
`;
}

/** Adds upstream `flaky` (a dead target, then the echo upstream; one retry) and route /retry/* to it. */
function withRetryRoute(deadPort: number, yaml: string): string {
  return yaml
    .replace('upstreams:\n', `upstreams:\n  flaky: { targets: [{ url: "http://127.0.0.1:${deadPort}" }, { url: "{{UPSTREAM}}" }], retries: 1 }\n`)
    .replace('routes:\n', 'routes:\n  - name: retry\n    match: { paths: ["/retry/*"] }\n    forward: { upstream: flaky }\n');
}

/** Sends one request and returns what the upstream got as traceparent (parsed) and the access line. */
async function call(gw: TestGateway, upstream: EchoUpstream, path: string, headers: Record<string, string> = {}) {
  const before = upstream.seen.length;
  const accessBefore = gw.logs.access().length;
  const res = await request(`${gw.url}${path}`, { headers });
  await res.body.dump();
  const seen = upstream.seen.length > before ? upstream.seen.at(-1)! : undefined;
  const access = await waitFor(() => gw.logs.access()[accessBefore], 2000, 'the access line');
  const raw = seen?.headers.traceparent as string | undefined;
  return { status: res.statusCode, seen, raw, sent: raw === undefined ? undefined : parseTraceparent(raw), access, requestId: res.headers['x-request-id'] };
}

function byKind(spans: ReceivedSpan[], kind: number): ReceivedSpan[] {
  return spans.filter((s) => s.kind === kind);
}

describe('tracing enabled: spans exported over OTLP/HTTP JSON', () => {
  let upstream: EchoUpstream;
  let receiver: OtlpReceiver;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    receiver = await OtlpReceiver.start();
    const dead = await deadPort();
    gw = await startGateway(
      withRetryRoute(dead, config(
        `  enabled: true
  serviceName: gw-under-test
  endpoint: "${receiver.url}"
  headers: { x-otlp-token: sekrit }
  batch: { scheduledDelay: 50ms }`,
        '  trustedProxies: ["127.0.0.1"]',
      )),
      { upstreamUrl: upstream.url },
    );
  });
  afterAll(async () => {
    await gw.close();
    await receiver.close();
    await upstream.close();
  });

  it('continues the caller trace upstream with the CLIENT span as parent, and exports server -> phases, server -> client', async () => {
    const { status, sent, access } = await call(gw, upstream, `/users/42?apikey=${SECRET}`, { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=abc' });
    expect(status).toBe(200);
    expect(sent!.traceId).toBe(TRACE);
    expect(sent!.parentId).not.toBe(PARENT);
    expect(sent!.flags & 1).toBe(1);
    expect(access.trace_id).toBe(TRACE);

    const spans = await waitFor(() => {
      const t = receiver.trace(TRACE);
      return byKind(t, KIND.SERVER).length === 1 && byKind(t, KIND.CLIENT).length === 1 && byKind(t, KIND.INTERNAL).length >= 2 ? t : undefined;
    }, 5000, 'the exported trace');
    const server = byKind(spans, KIND.SERVER)[0]!;
    const client = byKind(spans, KIND.CLIENT)[0]!;
    expect(server.parentSpanId).toBe(PARENT);
    expect(server.name).toBe('GET /users/{id}');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/users/{id}',
      'http.response.status_code': 200,
      'url.path': '/users/42',
      'portcullis.route': 'users',
      'portcullis.decision': 'allow',
    });
    expect(server.resource['service.name']).toBe('gw-under-test');
    // The client span is the one the upstream was told about.
    expect(client.parentSpanId).toBe(server.spanId);
    expect(client.spanId).toBe(sent!.parentId);
    expect(client.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.full': `${upstream.url}/users/42` });
    const phases = byKind(spans, KIND.INTERNAL);
    for (const phase of phases) expect(phase.parentSpanId).toBe(server.spanId);
    const named = Object.fromEntries(phases.map((p) => [p.attributes['portcullis.phase'], p.attributes]));
    expect(named.onRequest).toMatchObject({ 'portcullis.policies': ['ip-restriction', 'allowed-methods'], 'portcullis.decision': 'allow' });
    expect(named.onResponse).toMatchObject({ 'portcullis.policies': ['security-headers'] });
    // No query string value (a credential here) in anything exported; the export headers are sent.
    expect(receiver.bodies.join('')).not.toContain(SECRET);
    expect(receiver.headers[0]!['x-otlp-token']).toBe('sekrit');
  });

  it('records a denial on its phase span and calls no upstream', async () => {
    const traceparent = `00-${'a'.repeat(32)}-${PARENT}-01`;
    const { status, seen } = await call(gw, upstream, '/blocked/x', { traceparent });
    expect(status).toBe(403);
    expect(seen).toBeUndefined();
    const spans = await waitFor(() => {
      const t = receiver.trace('a'.repeat(32));
      return byKind(t, KIND.SERVER).length === 1 ? t : undefined;
    }, 5000, 'the denied trace');
    expect(byKind(spans, KIND.CLIENT)).toHaveLength(0);
    const server = byKind(spans, KIND.SERVER)[0]!;
    expect(server.attributes).toMatchObject({ 'http.response.status_code': 403, 'portcullis.decision': 'deny', 'portcullis.decided_by': 'ip-restriction' });
    const onRequest = byKind(spans, KIND.INTERNAL).find((s) => s.attributes['portcullis.phase'] === 'onRequest')!;
    expect(onRequest.attributes).toMatchObject({ 'portcullis.decision': 'deny', 'portcullis.decided_by': 'ip-restriction' });
  });

  it('gives a retried upstream call one CLIENT span per attempt, and the upstream the id of the one that reached it', async () => {
    const retried = await waitFor(async () => {
      const { sent } = await call(gw, upstream, '/retry/x');
      const spans = await waitFor(() => {
        const t = receiver.trace(sent!.traceId);
        return byKind(t, KIND.SERVER).length === 1 ? t : undefined;
      }, 5000, 'the trace');
      return byKind(spans, KIND.CLIENT).length === 2 ? { sent: sent!, clients: byKind(spans, KIND.CLIENT) } : undefined;
    }, 5000, 'a request whose first attempt went to the dead target');
    const [failed, succeeded] = retried.clients.sort((a, b) => Number(a.attributes['http.request.resend_count'] ?? 0) - Number(b.attributes['http.request.resend_count'] ?? 0));
    expect(failed!.attributes['error.type']).toBe('ECONNREFUSED');
    expect(failed!.status?.code).toBe(2);
    expect(succeeded!.attributes).toMatchObject({ 'http.request.resend_count': 1, 'http.response.status_code': 200 });
    expect(succeeded!.spanId).toBe(retried.sent.parentId);
  });

  it('starts a new trace, the root of its own tree, when there is no traceparent', async () => {
    const { sent, access } = await call(gw, upstream, '/users/7');
    expect(access.trace_id).toBe(sent!.traceId);
    const spans = await waitFor(() => {
      const t = receiver.trace(sent!.traceId);
      return byKind(t, KIND.CLIENT).length === 1 && byKind(t, KIND.SERVER).length === 1 ? t : undefined;
    }, 5000, 'the new trace');
    expect(byKind(spans, KIND.SERVER)[0]!.parentSpanId).toBeUndefined();
    expect(byKind(spans, KIND.CLIENT)[0]!.spanId).toBe(sent!.parentId);
  });
});

describe('trace context from clients that are not trusted proxies (default continueFrom)', () => {
  let upstream: EchoUpstream;
  let receiver: OtlpReceiver;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    receiver = await OtlpReceiver.start();
    gw = await startGateway(config(`  enabled: true\n  endpoint: "${receiver.url}"\n  batch: { scheduledDelay: 50ms }`), { upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await receiver.close();
    await upstream.close();
  });

  it('restarts the trace, drops the client tracestate and links the client context from the server span', async () => {
    const { sent, seen, access } = await call(gw, upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=abc' });
    expect(sent!.traceId).not.toBe(TRACE);
    expect(access.trace_id).toBe(sent!.traceId);
    expect(seen!.headers.tracestate).toBeUndefined();
    const server = await waitFor(() => byKind(receiver.trace(sent!.traceId), KIND.SERVER)[0], 5000, 'the restarted trace');
    expect(server.parentSpanId).toBeUndefined();
    expect(server.links).toEqual([{ traceId: TRACE, spanId: PARENT }]);
    expect(receiver.trace(TRACE)).toHaveLength(0);
  });
});

describe('malformed traceparent headers start a new trace', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    // continueFrom: anyone, so only the header's validity decides.
    gw = await startGateway(config('  continueFrom: anyone'), { upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('continues a valid one (the control case)', async () => {
    const { sent } = await call(gw, upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(sent!.traceId).toBe(TRACE);
  });

  it.each([
    ['wrong length', `00-${TRACE}-${PARENT.slice(1)}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['an extra field on version 00', `00-${TRACE}-${PARENT}-01-extra`],
    ['non-hex characters', `00-${TRACE.slice(0, 30)}zz-${PARENT}-01`],
  ])('%s', async (_name, traceparent) => {
    const { sent, raw, access } = await call(gw, upstream, '/users/1', { traceparent, tracestate: 'vendor=abc' });
    expect(raw).not.toBe(traceparent);
    expect(sent).toBeDefined();
    expect(sent!.traceId).not.toBe(TRACE);
    expect(sent!.traceId).not.toBe('0'.repeat(32));
    expect(access.trace_id).toBe(sent!.traceId);
  });

  it('never forwards a client tracestate that is not valid or too big', async () => {
    const big = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',');
    const { seen } = await call(gw, upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: big });
    expect(seen!.headers.tracestate).toBeUndefined();
    const ok = await call(gw, upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=abc' });
    expect(ok.seen!.headers.tracestate).toBe('vendor=abc');
  });
});

describe('tracing disabled', () => {
  let upstream: EchoUpstream;
  let receiver: OtlpReceiver;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    receiver = await OtlpReceiver.start();
    gw = await startGateway(config(`  enabled: false\n  continueFrom: anyone\n  endpoint: "${receiver.url}"\n  batch: { scheduledDelay: 50ms }`), { upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await receiver.close();
    await upstream.close();
  });

  it('still propagates (a new gateway span id per request) and exports nothing', async () => {
    const a = await call(gw, upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01` });
    const b = await call(gw, upstream, '/users/2', { traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(a.sent!.traceId).toBe(TRACE);
    expect(b.sent!.traceId).toBe(TRACE);
    expect(a.sent!.parentId).not.toBe(PARENT);
    expect(a.sent!.parentId).not.toBe(b.sent!.parentId);
    expect(a.access.trace_id).toBe(TRACE);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.bodies).toHaveLength(0);
  });
});

describe('sampling is the gateway decision, not the client', () => {
  let upstream: EchoUpstream;
  let receiver: OtlpReceiver;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    receiver = await OtlpReceiver.start();
    gw = await startGateway(config(`  enabled: true\n  continueFrom: anyone\n  sampleRatio: 0\n  endpoint: "${receiver.url}"\n  batch: { scheduledDelay: 50ms }`), { upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await gw.close();
    await receiver.close();
    await upstream.close();
  });

  it('a client sending sampled=1 on every request gets nothing exported and an unsampled flag upstream', async () => {
    for (let i = 0; i < 20; i++) {
      const { sent } = await call(gw, upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01` });
      expect(sent!.traceId).toBe(TRACE);
      expect(sent!.flags & 1).toBe(0);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.spans).toHaveLength(0);
  });
});

describe('the OTLP receiver is down', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    const port = await deadPort();
    gw = await startGateway(config(`  enabled: true\n  endpoint: "http://127.0.0.1:${port}/v1/traces"\n  exportTimeout: 1s\n  batch: { scheduledDelay: 20ms, maxQueueSize: 64, maxExportBatchSize: 8 }`), {
      upstreamUrl: upstream.url,
    });
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('requests still succeed, and shutdown is not held past the export timeout', async () => {
    for (let i = 0; i < 150; i++) {
      const { status, sent } = await call(gw, upstream, `/users/${i}`);
      expect(status).toBe(200);
      expect(sent).toBeDefined();
    }
    // Export failures are warnings in the log, never request errors.
    await waitFor(() => gw.logs.lines.find((l) => String(l.msg).startsWith('tracing:') && l.level === 40), 5000, 'an export failure warning');
    const started = performance.now();
    await gw.close();
    expect(performance.now() - started).toBeLessThan(4000);
  });
});

describe('WebSocket upgrades', () => {
  it('send the upstream the handshake CLIENT span as parent, and the tunnel is one traced request', async () => {
    const seen: IncomingMessage[] = [];
    const server = createServer((_req, res) => res.writeHead(426).end());
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws, req) => {
      seen.push(req);
      ws.send('hi');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = await OtlpReceiver.start();
    const gw = await startGateway(
      config(`  enabled: true\n  continueFrom: anyone\n  endpoint: "${receiver.url}"\n  batch: { scheduledDelay: 50ms }`).replace(
        'forward: { upstream: up }\n    policies:\n      - name: allowed-methods',
        'forward: { upstream: up, websocket: true }\n    policies:\n      - name: allowed-methods',
      ),
      { upstreamUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
    );
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/users/1`, { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
      await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
      const sent = parseTraceparent(seen[0]!.headers.traceparent as string)!;
      expect(sent.traceId).toBe(TRACE);
      ws.close();
      const spans = await waitFor(() => {
        const t = receiver.trace(TRACE);
        return byKind(t, KIND.SERVER).length === 1 ? t : undefined;
      }, 5000, 'the websocket trace');
      const client = byKind(spans, KIND.CLIENT)[0]!;
      expect(client.spanId).toBe(sent.parentId);
      expect(client.attributes['http.response.status_code']).toBe(101);
      expect(byKind(spans, KIND.SERVER)[0]!.attributes['http.response.status_code']).toBe(101);
    } finally {
      await gw.close();
      await receiver.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

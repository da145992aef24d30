import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { waitFor } from '../helpers/child-gateway.js';
import { KIND, OtlpReceiver } from '../helpers/otlp-receiver.js';
import { deadPort, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';
import { byKind, call, config, PARENT, SECRET, TRACE, tracingRig, withRetryRoute } from '../helpers/tracing.js';
import { parseTraceparent } from '../../src/observability/tracing/trace-context.js';

// OpenTelemetry spans (tracing.enabled) against a real OTLP/HTTP receiver and a real upstream: docs/tracing.md.

describe('tracing enabled: spans exported over OTLP/HTTP JSON', () => {
  const rig = tracingRig(async (url) =>
    withRetryRoute(
      await deadPort(),
      config(
        `  enabled: true
  serviceName: gw-under-test
  endpoint: "${url}"
  headers: { x-otlp-token: sekrit }
  batch: { scheduledDelay: 50ms }`,
        '  trustedProxies: ["127.0.0.1"]',
      ),
    ),
  );

  it('continues the caller trace upstream with the CLIENT span as parent, and exports server -> phases, server -> client', async () => {
    const { status, sent, access } = await call(rig.gw, rig.upstream, `/users/42?apikey=${SECRET}`, { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=abc' });
    expect(status).toBe(200);
    expect(sent!.traceId).toBe(TRACE);
    expect(sent!.parentId).not.toBe(PARENT);
    expect(sent!.flags & 1).toBe(1);
    expect(access.trace_id).toBe(TRACE);

    const spans = await waitFor(() => {
      const t = rig.receiver.trace(TRACE);
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
    expect(client.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200, 'url.full': `${rig.upstream.url}/users/42` });
    const phases = byKind(spans, KIND.INTERNAL);
    for (const phase of phases) expect(phase.parentSpanId).toBe(server.spanId);
    // Children lie within the request, on the wall clock (span times come from performance.now()).
    for (const child of [...phases, client]) {
      expect(child.start >= server.start && child.end <= server.end && child.start <= child.end).toBe(true);
    }
    expect(Number(server.start / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
    const named = Object.fromEntries(phases.map((p) => [p.attributes['portcullis.phase'], p.attributes]));
    expect(named.onRequest).toMatchObject({ 'portcullis.policies': ['ip-restriction', 'allowed-methods'], 'portcullis.decision': 'allow' });
    expect(named.onResponse).toMatchObject({ 'portcullis.policies': ['security-headers'] });
    // No query string value (a credential here) in anything exported; the export headers are sent.
    expect(rig.receiver.bodies.join('')).not.toContain(SECRET);
    expect(rig.receiver.headers[0]!['x-otlp-token']).toBe('sekrit');
  });

  it('records a denial on its phase span and calls no upstream', async () => {
    const traceparent = `00-${'a'.repeat(32)}-${PARENT}-01`;
    const { status, seen } = await call(rig.gw, rig.upstream, '/blocked/x', { traceparent });
    expect(status).toBe(403);
    expect(seen).toBeUndefined();
    const spans = await waitFor(() => {
      const t = rig.receiver.trace('a'.repeat(32));
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
      const { sent } = await call(rig.gw, rig.upstream, '/retry/x');
      const spans = await waitFor(() => {
        const t = rig.receiver.trace(sent!.traceId);
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
    const { sent, access } = await call(rig.gw, rig.upstream, '/users/7');
    expect(access.trace_id).toBe(sent!.traceId);
    const spans = await waitFor(() => {
      const t = rig.receiver.trace(sent!.traceId);
      return byKind(t, KIND.CLIENT).length === 1 && byKind(t, KIND.SERVER).length === 1 ? t : undefined;
    }, 5000, 'the new trace');
    expect(byKind(spans, KIND.SERVER)[0]!.parentSpanId).toBeUndefined();
    expect(byKind(spans, KIND.CLIENT)[0]!.spanId).toBe(sent!.parentId);
  });
});

describe('trace context from clients that are not trusted proxies (default continueFrom)', () => {
  const rig = tracingRig((url) => config(`  enabled: true\n  endpoint: "${url}"\n  batch: { scheduledDelay: 50ms }`));

  it('restarts the trace, drops the client tracestate and links the client context from the server span', async () => {
    const { sent, seen, access } = await call(rig.gw, rig.upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=abc' });
    expect(sent!.traceId).not.toBe(TRACE);
    expect(access.trace_id).toBe(sent!.traceId);
    expect(seen!.headers.tracestate).toBeUndefined();
    const server = await waitFor(() => byKind(rig.receiver.trace(sent!.traceId), KIND.SERVER)[0], 5000, 'the restarted trace');
    expect(server.parentSpanId).toBeUndefined();
    expect(server.links).toEqual([{ traceId: TRACE, spanId: PARENT }]);
    expect(rig.receiver.trace(TRACE)).toHaveLength(0);
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

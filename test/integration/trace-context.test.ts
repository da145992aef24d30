import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';
import { call, config, PARENT, TRACE, tracingRig } from '../helpers/tracing.js';

// W3C trace context propagation, always on (tracing enabled or not): docs/tracing.md.

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
  const rig = tracingRig((url) => config(`  enabled: false\n  continueFrom: anyone\n  endpoint: "${url}"\n  batch: { scheduledDelay: 50ms }`));

  it('still propagates (a new gateway span id per request) and exports nothing', async () => {
    const a = await call(rig.gw, rig.upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01` });
    const b = await call(rig.gw, rig.upstream, '/users/2', { traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(a.sent!.traceId).toBe(TRACE);
    expect(b.sent!.traceId).toBe(TRACE);
    expect(a.sent!.parentId).not.toBe(PARENT);
    expect(a.sent!.parentId).not.toBe(b.sent!.parentId);
    expect(a.access.trace_id).toBe(TRACE);
    await new Promise((r) => setTimeout(r, 300));
    expect(rig.receiver.bodies).toHaveLength(0);
  });
});

describe('sampling is the gateway decision, not the client', () => {
  const rig = tracingRig((url) => config(`  enabled: true\n  continueFrom: anyone\n  sampleRatio: 0\n  endpoint: "${url}"\n  batch: { scheduledDelay: 50ms }`));

  it('a client sending sampled=1 on every request gets nothing exported and an unsampled flag upstream', async () => {
    for (let i = 0; i < 20; i++) {
      const { sent } = await call(rig.gw, rig.upstream, '/users/1', { traceparent: `00-${TRACE}-${PARENT}-01` });
      expect(sent!.traceId).toBe(TRACE);
      expect(sent!.flags & 1).toBe(0);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(rig.receiver.spans).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import { makeContext } from '../../../test/helpers/context.js';
import { TracingConfigSchema, type TracingConfig } from './config.js';
import { TracePropagation, upstreamTraceparent } from './propagation.js';
import { acceptTracestate, formatTraceparent, newSpanId, newTraceId, parseTraceparent } from './trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${PARENT}-01`;

describe('parseTraceparent', () => {
  it('reads a valid version-00 header', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE, parentId: PARENT, flags: 1 });
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.flags).toBe(0);
  });

  it.each([
    ['empty', ''],
    ['too short', VALID.slice(0, 54)],
    ['extra field on version 00', `${VALID}-extra`],
    ['trailing space on version 00', `${VALID} `],
    ['upper-case trace id', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['upper-case flags', `00-${TRACE}-${PARENT}-0A`],
    ['upper-case version', `0A-${TRACE}-${PARENT}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['non-hex digit', `00-${TRACE.slice(0, 31)}g-${PARENT}-01`],
    ['wrong separator', `00_${TRACE}-${PARENT}-01`],
    ['short trace id, long parent', `00-${TRACE.slice(0, 31)}-${PARENT}0-01`],
    ['two headers joined by Node', `${VALID}, 00-${TRACE}-${PARENT}-00`],
    ['a later version with data glued on', `01-${TRACE}-${PARENT}-01x`],
  ])('refuses %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('reads a later version as far as version 00 goes (section 3.2.4)', () => {
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-01-what-the-future-holds`)).toEqual({ traceId: TRACE, parentId: PARENT, flags: 1 });
    expect(parseTraceparent(`01-${TRACE}-${PARENT}-03`)?.flags).toBe(3);
  });
});

describe('acceptTracestate', () => {
  it('passes well-formed lists on, without empty members and surrounding spaces', () => {
    expect(acceptTracestate('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7')).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(acceptTracestate(['a=1', 'b@sys=2'])).toBe('a=1,b@sys=2');
    expect(acceptTracestate('a=1,,b=2')).toBe('a=1,b=2');
  });

  it.each([
    ['over 512 characters', `a=${'x'.repeat(254)},b=${'x'.repeat(254)}`],
    ['a value over 256 characters', `a=${'x'.repeat(257)}`],
    ['over 32 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
    ['an upper-case key', 'Congo=1'],
    ['a member without =', 'congo'],
    ['an empty value', 'congo='],
    ['a value with =', 'congo=a=b'],
    ['a control character', 'congo=a\u0001b'],
    ['a duplicated key', 'a=1,a=2'],
    ['nothing but commas', ' , ,'],
  ])('drops a list with %s', (_name, value) => {
    expect(acceptTracestate(value)).toBeUndefined();
  });

  it('keeps exactly 32 members and exactly 512 characters', () => {
    const members = Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(',');
    expect(acceptTracestate(members)).toBe(members);
    expect(acceptTracestate(`a=${'x'.repeat(254)},b=${'x'.repeat(253)}`)).toHaveLength(512);
  });
});

describe('ids', () => {
  it('are lower-case hex of the right length, non-zero and different every time', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = newTraceId();
      const s = newSpanId();
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      ids.add(t).add(s);
    }
    expect(ids.size).toBe(4000);
    expect(parseTraceparent(formatTraceparent(newTraceId(), newSpanId(), 1))).toBeDefined();
  });
});

function propagation(overrides: Partial<TracingConfig>, random = () => 0.5): TracePropagation {
  const defaults = { continueFrom: 'trusted-proxies', sampleRatio: 1, enabled: false } as TracingConfig;
  expect(TracingConfigSchema.properties.continueFrom.default).toBe('trusted-proxies');
  return new TracePropagation({ ...defaults, ...overrides }, undefined, random);
}

function traced(p: TracePropagation, headers: { traceparent?: string; tracestate?: string }, trustedProxy = false) {
  const ctx = makeContext();
  ctx.fromTrustedProxy = trustedProxy;
  p.start(ctx, headers.traceparent, headers.tracestate);
  const sent = parseTraceparent(upstreamTraceparent(ctx))!;
  return { ctx, sent };
}

describe('TracePropagation', () => {
  it('continues a trusted proxy trace with a new span id, its sampled flag and its tracestate', () => {
    const { ctx, sent } = traced(propagation({ sampleRatio: 0 }), { traceparent: VALID, tracestate: 'a=1' }, true);
    expect(ctx.traceId).toBe(TRACE);
    expect(sent.traceId).toBe(TRACE);
    expect(sent.parentId).not.toBe(PARENT);
    expect(sent.flags & 1).toBe(1); // the trusted parent sampled: followed even at ratio 0
    expect(ctx.traceState).toBe('a=1');
  });

  it('restarts a client trace by default (not a trusted proxy), dropping its tracestate', () => {
    const { ctx, sent } = traced(propagation({}), { traceparent: VALID, tracestate: 'a=1' });
    expect(ctx.traceId).not.toBe(TRACE);
    expect(sent.traceId).toBe(ctx.traceId);
    expect(ctx.traceState).toBeUndefined();
  });

  it('continues anyone with continueFrom: anyone, but never takes the sampled flag from a client', () => {
    const p = propagation({ continueFrom: 'anyone', sampleRatio: 0.1 }, () => 0.5);
    const { ctx, sent } = traced(p, { traceparent: VALID });
    expect(ctx.traceId).toBe(TRACE);
    expect(sent.flags & 1).toBe(0); // the client said sampled; our draw (0.5 >= 0.1) said no
    const sampled = traced(propagation({ continueFrom: 'anyone', sampleRatio: 0.1 }, () => 0.05), { traceparent: `00-${TRACE}-${PARENT}-00` });
    expect(sampled.sent.flags & 1).toBe(1);
  });

  it('continues nobody with continueFrom: nobody, trusted proxies included', () => {
    const { ctx } = traced(propagation({ continueFrom: 'nobody' }), { traceparent: VALID }, true);
    expect(ctx.traceId).not.toBe(TRACE);
  });

  it('starts a new trace for a malformed traceparent, even from a trusted proxy', () => {
    const { ctx, sent } = traced(propagation({}), { traceparent: VALID.toUpperCase() }, true);
    expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(ctx.traceId).not.toBe(TRACE);
    expect(sent.flags).toBe(3); // sampled (ratio 1) and a random trace id
  });
});

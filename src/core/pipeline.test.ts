import { describe, expect, it } from 'vitest';
import { makeContext } from '../../test/helpers/context.js';
import { silentLogger } from '../observability/logger.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { GatewayError } from '../errors/index.js';
import { HeaderList } from './header-list.js';
import { Pipeline, type PipelineStep } from './pipeline.js';
import type { PolicyInstance } from './policy.js';
import type { Phase } from './phases.js';

function step(name: string, instance: PolicyInstance, options: Partial<Pick<PipelineStep, 'mode' | 'failureMode' | 'phase'>> = {}): PipelineStep {
  return { name, instance, phase: options.phase ?? ('inspect' as Phase), mode: options.mode ?? 'enforce', failureMode: options.failureMode ?? 'closed' };
}

function build(steps: PipelineStep[]) {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  return { pipeline: new Pipeline(steps, silentLogger(), metrics), metrics };
}

const deny = (): PolicyInstance => ({
  handle: () => {
    throw new GatewayError('GW_FORBIDDEN', { reason: 'nope' });
  },
});

async function metricValue(metrics: GatewayMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = (metric?.values ?? []).find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}

describe('Pipeline', () => {
  it('runs request steps in order and stays synchronous when every step is', () => {
    const order: string[] = [];
    const { pipeline } = build([step('a', { handle: () => void order.push('a') }), step('b', { handle: () => void order.push('b') })]);
    const result = pipeline.runRequest(makeContext());
    expect(result).toBeUndefined();
    expect(order).toEqual(['a', 'b']);
  });

  it('stops at an enforced denial, records which policy decided, and rethrows', () => {
    const later: string[] = [];
    const { pipeline } = build([step('gate', deny()), step('after', { handle: () => void later.push('ran') })]);
    const ctx = makeContext();
    expect(() => pipeline.runRequest(ctx)).toThrow(GatewayError);
    expect(ctx.decision).toMatchObject({ outcome: 'deny', policy: 'gate', code: 'GW_FORBIDDEN', reason: 'nope' });
    expect(later).toEqual([]);
  });

  it('continues through an asynchronous step and denies from a later asynchronous one', async () => {
    const order: string[] = [];
    const { pipeline } = build([
      step('async-ok', { handle: async () => void order.push('async-ok') }),
      step('sync', { handle: () => void order.push('sync') }),
      step('async-deny', { handle: async () => Promise.reject(new GatewayError('GW_FORBIDDEN', { reason: 'later' })) }),
      step('never', { handle: () => void order.push('never') }),
    ]);
    const ctx = makeContext();
    await expect(pipeline.runRequest(ctx)).rejects.toMatchObject({ code: 'GW_FORBIDDEN' });
    expect(order).toEqual(['async-ok', 'sync']);
    expect(ctx.decision.policy).toBe('async-deny');
  });

  it('lets a request through a monitored denial, records the hit and counts it', async () => {
    const { pipeline, metrics } = build([step('watch', deny(), { mode: 'monitor' }), step('after', {})]);
    const ctx = makeContext();
    expect(pipeline.runRequest(ctx)).toBeUndefined();
    expect(ctx.decision.outcome).toBe('allow');
    expect(ctx.monitorHits).toEqual([{ policy: 'watch', code: 'GW_FORBIDDEN', reason: 'nope' }]);
    expect(await metricValue(metrics, 'portcullis_policy_decisions_total', { policy: 'watch', decision: 'monitor' })).toBe(1);
  });

  it('turns a fault in a fail-closed step into 503 GW_POLICY_UNAVAILABLE and counts it', async () => {
    const { pipeline, metrics } = build([step('store', { handle: () => { throw new Error('redis down'); } }, { failureMode: 'closed' })]);
    const ctx = makeContext();
    let caught: unknown;
    try {
      pipeline.runRequest(ctx);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).code).toBe('GW_POLICY_UNAVAILABLE');
    expect((caught as GatewayError).status).toBe(503);
    expect(ctx.decision).toMatchObject({ outcome: 'error', policy: 'store' });
    expect(await metricValue(metrics, 'portcullis_policy_faults_total', { policy: 'store' })).toBe(1);
  });

  it('lets a request through a fault in a fail-open step, still counting the fault', async () => {
    const reached: string[] = [];
    const { pipeline, metrics } = build([
      step('limiter', { handle: async () => Promise.reject(new Error('timeout')) }, { failureMode: 'open' }),
      step('after', { handle: () => void reached.push('after') }),
    ]);
    await pipeline.runRequest(makeContext());
    expect(reached).toEqual(['after']);
    expect(await metricValue(metrics, 'portcullis_policy_faults_total', { policy: 'limiter' })).toBe(1);
  });

  it('stops the chain after a local reply and marks the decision', () => {
    const later: string[] = [];
    const { pipeline } = build([step('preflight', { handle: (ctx) => ctx.respond(204, { 'x-a': '1' }) }), step('after', { handle: () => void later.push('x') })]);
    const ctx = makeContext();
    pipeline.runRequest(ctx);
    expect(ctx.reply).toEqual({ status: 204, headers: { 'x-a': '1' } });
    expect(ctx.decision.outcome).toBe('reply');
    expect(later).toEqual([]);
  });

  it('runs response hooks in reverse order and survives a throwing hook', () => {
    const order: string[] = [];
    const { pipeline } = build([
      step('outer', { onResponse: (_c, head) => void (order.push('outer'), head.set('x-outer', head.get('x-inner') ?? 'missing')) }),
      step('broken', { onResponse: () => { throw new Error('bug'); } }),
      step('inner', { onResponse: (_c, head) => void (order.push('inner'), head.set('x-inner', 'set')) }),
    ]);
    const head = new HeaderList();
    pipeline.runResponse(makeContext(), head, 200);
    expect(order).toEqual(['inner', 'outer']);
    expect(head.get('x-outer')).toBe('set');
  });

  it('runs every log hook even if one throws', () => {
    const seen: string[] = [];
    const { pipeline } = build([step('a', { log: () => { throw new Error('x'); } }), step('b', { log: () => void seen.push('b') })]);
    pipeline.runLog(makeContext());
    expect(seen).toEqual(['b']);
  });
});

describe('Pipeline failOpen hook', () => {
  const faulty = (failOpen: PolicyInstance['failOpen']): PolicyInstance => ({
    handle: async () => Promise.reject(new Error('backend down')),
    failOpen,
  });

  it('lets an open step that faulted decide in degraded mode, and continues when it admits', async () => {
    const seen: unknown[] = [];
    const after: string[] = [];
    const { pipeline } = build([
      step('limiter', faulty((_ctx, fault) => void seen.push((fault as Error).message)), { failureMode: 'open' }),
      step('next', { handle: () => void after.push('next') }),
    ]);
    await pipeline.runRequest(makeContext());
    expect(seen).toEqual(['backend down']);
    expect(after).toEqual(['next']);
  });

  it('enforces a denial from the degraded decision like any other, and records it in monitor mode', async () => {
    const denyDegraded = faulty(() => {
      throw new GatewayError('GW_RATE_LIMITED', { reason: 'local share spent' });
    });
    const ctx = makeContext();
    await expect(build([step('limiter', denyDegraded, { failureMode: 'open' })]).pipeline.runRequest(ctx)).rejects.toMatchObject({ code: 'GW_RATE_LIMITED' });
    expect(ctx.decision).toMatchObject({ outcome: 'deny', policy: 'limiter', code: 'GW_RATE_LIMITED' });
    const watched = makeContext();
    await build([step('limiter', denyDegraded, { failureMode: 'open', mode: 'monitor' })]).pipeline.runRequest(watched);
    expect(watched.monitorHits).toEqual([{ policy: 'limiter', code: 'GW_RATE_LIMITED', reason: 'local share spent' }]);
  });

  it('is not called for a closed step: the fault answers 503', async () => {
    let called = false;
    const { pipeline } = build([step('limiter', faulty(() => void (called = true)), { failureMode: 'closed' })]);
    await expect(pipeline.runRequest(makeContext())).rejects.toMatchObject({ code: 'GW_POLICY_UNAVAILABLE' });
    expect(called).toBe(false);
  });
});

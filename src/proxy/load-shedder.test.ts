import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/logger.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { EventLoopLag, LoadShedder, type LagSource } from './load-shedder.js';
import type { LoadSheddingConfig } from '../config/schema.js';

const CONFIG: LoadSheddingConfig = { enabled: true, maxEventLoopDelay: '100ms', sampleInterval: '1h', holdFor: '1s', retryAfter: 2 };

/** A lag source the test sets by hand. */
class FakeLag implements LagSource {
  lagMs = 0;
  closed = false;
  sample(): number {
    return this.lagMs;
  }
  close(): void {
    this.closed = true;
  }
}

function shedder(config: Partial<LoadSheddingConfig> = {}) {
  const lag = new FakeLag();
  const clock = { now: 0 };
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const s = new LoadShedder(metrics, silentLogger(), () => clock.now, lag);
  s.configure({ ...CONFIG, ...config });
  return { s, lag, clock, metrics };
}

const gauge = async (metrics: GatewayMetrics) => (await metrics.registry.getSingleMetric('portcullis_load_shedding_active')!.get()).values[0]?.value;

describe('load shedder', () => {
  it('starts shedding when a sample lags past the threshold, not at it', async () => {
    const { s, lag, metrics } = shedder();
    lag.lagMs = 100;
    s.sample();
    expect(s.shedding).toBe(false);
    lag.lagMs = 101;
    s.sample();
    expect(s.shedding).toBe(true);
    expect(await gauge(metrics)).toBe(1);
    s.close();
  });

  it('keeps shedding for holdFor after the last lagging sample, then stops once lag is low', async () => {
    const { s, lag, clock, metrics } = shedder();
    lag.lagMs = 500;
    s.sample();
    lag.lagMs = 5;
    clock.now = 999;
    s.sample();
    expect(s.shedding).toBe(true);
    clock.now = 1000;
    s.sample();
    expect(s.shedding).toBe(false);
    expect(await gauge(metrics)).toBe(0);
    s.close();
  });

  it('a new lagging sample during the hold extends it', () => {
    const { s, lag, clock } = shedder();
    lag.lagMs = 500;
    s.sample();
    clock.now = 800;
    s.sample();
    lag.lagMs = 5;
    clock.now = 1500;
    s.sample();
    expect(s.shedding).toBe(true);
    clock.now = 1800;
    s.sample();
    expect(s.shedding).toBe(false);
    s.close();
  });

  it('refuses with 503 GW_OVERLOADED and the configured Retry-After, counting each shed request', async () => {
    const { s, metrics } = shedder();
    const error = s.reject();
    s.reject();
    expect(error.code).toBe('GW_OVERLOADED');
    expect(error.status).toBe(503);
    expect(error.headers).toEqual({ 'retry-after': '2' });
    expect((await metrics.registry.getSingleMetric('portcullis_requests_shed_total')!.get()).values[0]?.value).toBe(2);
    s.close();
  });

  it('stops shedding and sampling when a reload disables it', () => {
    const { s, lag } = shedder();
    lag.lagMs = 500;
    s.sample();
    s.configure({ ...CONFIG, enabled: false });
    expect(s.shedding).toBe(false);
    s.sample();
    expect(s.shedding).toBe(false);
  });
});

describe('real event-loop lag source', () => {
  it('reports a deliberate 250 ms stall of the event loop', async () => {
    const source = new EventLoopLag(20);
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        const end = performance.now() + 250;
        while (performance.now() < end); // blocks the loop on purpose
        resolve();
      }, 0),
    );
    expect(source.sample()).toBeGreaterThanOrEqual(200);
    source.close();
  });
});

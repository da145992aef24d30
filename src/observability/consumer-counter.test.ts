import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConsumerCounter } from './consumer-counter.js';

async function series(registry: Registry): Promise<string[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'portcullis_consumer_requests_total');
  return (metric?.values ?? []).map((v) => `${String(v.labels.consumer)} ${String(v.labels.route)} ${String(v.labels.status_class)} ${v.value}`).sort();
}

describe('ConsumerCounter', () => {
  it('publishes running totals at every scrape, never counting a request twice', async () => {
    const registry = new Registry();
    const counter = new ConsumerCounter(registry, 10);
    counter.count('alice', 'orders', 200);
    counter.count('alice', 'orders', 204);
    expect(await series(registry)).toEqual(['alice orders 2xx 2']);
    expect(await series(registry)).toEqual(['alice orders 2xx 2']);
    counter.count('alice', 'orders', 201);
    counter.count('alice', 'orders', 503);
    counter.count('alice', 'users', 404);
    expect(await series(registry)).toEqual(['alice orders 2xx 3', 'alice orders 5xx 1', 'alice users 4xx 1']);
    // The text format reads the same totals.
    expect(await registry.metrics()).toContain('portcullis_consumer_requests_total{consumer="alice",route="orders",status_class="2xx"} 3');
  });

  it('counts consumers past the cap as __other__, together', async () => {
    const registry = new Registry();
    const counter = new ConsumerCounter(registry, 1);
    for (const c of ['first', 'second', 'third', 'second']) counter.count(c, 'r', 200);
    expect(await series(registry)).toEqual(['__other__ r 2xx 3', 'first r 2xx 1']);
  });
});

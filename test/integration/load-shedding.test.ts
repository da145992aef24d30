import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { loadConfigText } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import type { LagSource } from '../../src/proxy/load-shedder.js';
import { LogCapture, startUpstreamEcho, type EchoUpstream } from '../helpers/servers.js';

function yaml(upstream: string, shedding: string): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
  loadShedding: ${shedding}
admin: { enabled: true, port: 0 }
upstreams:
  up: { targets: [{ url: "${upstream}" }] }
routes:
  - { name: all, match: { paths: ["/*"] }, forward: { upstream: up } }
`;
}

class FakeLag implements LagSource {
  lagMs = 0;
  sample(): number {
    return this.lagMs;
  }
  close(): void {}
}

async function get(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  const res = await request(url);
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('server.loadShedding', () => {
  let upstream: EchoUpstream;
  let gateway: Gateway | undefined;
  beforeAll(async () => (upstream = await startUpstreamEcho()));
  afterEach(async () => {
    await gateway?.close(2000);
    gateway = undefined;
    upstream.seen.length = 0;
  });
  afterAll(async () => upstream.close());

  async function start(shedding: string, options: { lag?: FakeLag; clock?: { now: number } } = {}) {
    const logs = new LogCapture();
    gateway = await Gateway.start(loadConfigText(yaml(upstream.url, shedding), `${process.cwd()}/test-config.yaml`), {
      logger: pino({ level: 'info', base: null, timestamp: false }, logs),
      accessSink: logs,
      metrics: new GatewayMetrics({ defaultMetrics: false }),
      ...(options.clock === undefined ? {} : { now: () => options.clock!.now }),
      ...(options.lag === undefined ? {} : { lagSource: options.lag }),
    });
    return { url: `http://127.0.0.1:${gateway.ports[0]!}`, admin: `http://127.0.0.1:${gateway.adminPort!}`, logs };
  }

  it('sheds with 503 GW_OVERLOADED and Retry-After while the loop lags, keeps /health answering, and recovers', async () => {
    const lag = new FakeLag();
    const clock = { now: 0 };
    const { url, admin, logs } = await start('{ enabled: true, maxEventLoopDelay: 100ms, holdFor: 2s, retryAfter: 3, sampleInterval: 1h }', { lag, clock });
    expect((await get(`${url}/a`)).status).toBe(200);

    lag.lagMs = 400;
    gateway!.loadShedder.sample();
    const shed = await get(`${url}/b`);
    expect(shed.status).toBe(503);
    expect(shed.body.code).toBe('GW_OVERLOADED');
    expect(shed.headers['retry-after']).toBe('3');
    expect(shed.headers['content-type']).toBe('application/problem+json');
    expect(upstream.seen.map((s) => s.url)).toEqual(['/a']);
    expect((await get(`${admin}/health`)).status).toBe(200);
    const metrics = await (await request(`${admin}/metrics`)).body.text();
    expect(metrics).toMatch(/^portcullis_requests_shed_total 1$/m);
    expect(metrics).toMatch(/^portcullis_load_shedding_active 1$/m);
    expect(logs.access().at(-1)).toMatchObject({ status: 503 });

    lag.lagMs = 10;
    clock.now = 1_999;
    gateway!.loadShedder.sample();
    expect((await get(`${url}/c`)).body.code).toBe('GW_OVERLOADED');
    clock.now = 2_000;
    gateway!.loadShedder.sample();
    expect((await get(`${url}/d`)).status).toBe(200);
    expect(logs.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('load shedding')).map((l) => l.msg)).toEqual([
      'load shedding started: event loop lagging',
      'load shedding stopped',
    ]);
  });

  it('never sheds when disabled, however long the lag', async () => {
    const lag = new FakeLag();
    const { url } = await start('{ enabled: false }', { lag });
    lag.lagMs = 10_000;
    gateway!.loadShedder.sample();
    expect((await get(`${url}/a`)).status).toBe(200);
  });

  it('sheds requests that arrive after a real stall of the event loop, then recovers on its own', async () => {
    const { url } = await start('{ enabled: true, maxEventLoopDelay: 250ms, sampleInterval: 20ms, holdFor: 1500ms }');
    expect((await get(`${url}/before`)).status).toBe(200);
    // A busy loop in a timer: 600 ms in which nothing else in this process runs.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        const end = performance.now() + 600;
        while (performance.now() < end);
        resolve();
      }, 0),
    );
    const during = get(`${url}/after-stall`);
    expect((await during).body.code).toBe('GW_OVERLOADED');
    // Lag is back to normal: within holdFor plus a few samples the gateway serves again.
    const deadline = Date.now() + 5_000;
    let status = 503;
    while (status === 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await get(`${url}/recovered`)).status;
    }
    expect(status).toBe(200);
    expect(upstream.seen.map((s) => s.url)).not.toContain('/after-stall');
  });
});

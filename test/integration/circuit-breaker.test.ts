import type { ServerResponse } from 'node:http';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { loadConfigText } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { deadPort, LogCapture, startUpstreamEcho, type EchoUpstream } from '../helpers/servers.js';

interface ClockedGateway {
  gateway: Gateway;
  url: string;
  logs: LogCapture;
  clock: { now: number };
}

/** A real gateway whose upstream clock the test moves by hand: cool-downs pass without sleeping. */
async function startClocked(targets: string[], breaker: string, timeouts = '{}'): Promise<ClockedGateway> {
  const yaml = `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  up:
    retries: 0
    timeouts: ${timeouts}
    targets: [${targets.map((t) => `{ url: "${t}" }`).join(', ')}]
    circuitBreaker: ${breaker}
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
`;
  const clock = { now: 1_000_000 };
  const logs = new LogCapture();
  const gateway = await Gateway.start(loadConfigText(yaml, `${process.cwd()}/test-config.yaml`), {
    logger: pino({ level: 'info', base: null, timestamp: false }, logs),
    metrics: new GatewayMetrics({ defaultMetrics: false }),
    now: () => clock.now,
  });
  return { gateway, url: `http://127.0.0.1:${gateway.ports[0]!}`, logs, clock };
}

async function get(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  const res = await request(url);
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function metricValue(gw: ClockedGateway, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const values = (await gw.gateway.metrics.registry.getSingleMetric(name)!.get()).values;
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('circuit breaker on a failing upstream', () => {
  let upstream: EchoUpstream;
  let gw: ClockedGateway | undefined;
  /** What the upstream answers: a status, or 'hold' to keep the request until the test releases it. */
  let answer: number | 'hold' = 200;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    upstream = await startUpstreamEcho((_req, res) => {
      if (answer === 'hold') held.push(res);
      else res.writeHead(answer, { 'content-type': 'text/plain' }).end(`status ${answer}`);
    });
  });
  afterEach(async () => {
    for (const res of held.splice(0)) res.end();
    await gw?.gateway.close(2000);
    gw = undefined;
    upstream.seen.length = 0;
    answer = 200;
  });
  afterAll(async () => upstream.close());

  const BREAKER = '{ consecutiveFailures: 3, failureRatio: 0, openFor: 10s, maxOpenFor: 25s }';

  it('opens after 3 upstream 503s, then answers 503 GW_CIRCUIT_OPEN with Retry-After without calling the upstream', async () => {
    gw = await startClocked([upstream.url], BREAKER);
    answer = 503;
    for (let i = 0; i < 3; i++) expect((await get(`${gw.url}/x`)).status).toBe(503);
    expect(upstream.seen).toHaveLength(3);

    const refused = await get(`${gw.url}/x`);
    expect(refused.body.code).toBe('GW_CIRCUIT_OPEN');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('10');
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(upstream.seen).toHaveLength(3);

    const target = upstream.url;
    expect(await metricValue(gw, 'portcullis_upstream_circuit_state', { target })).toBe(2);
    expect(await metricValue(gw, 'portcullis_upstream_circuit_transitions_total', { target, from: 'closed', to: 'open' })).toBe(1);
    expect(await metricValue(gw, 'portcullis_upstream_target_healthy', { target })).toBe(0);
    const line = gw.logs.lines.find((l) => l.msg === 'upstream target marked down');
    expect(line).toMatchObject({ upstream: 'up', target, circuit_from: 'closed', circuit_to: 'open', failures: 3, open_for_ms: 10_000 });
  });

  it('Retry-After counts down with the clock', async () => {
    gw = await startClocked([upstream.url], BREAKER);
    answer = 502;
    for (let i = 0; i < 3; i++) await get(`${gw.url}/x`);
    gw.clock.now += 7_400;
    expect((await get(`${gw.url}/x`)).headers['retry-after']).toBe('3');
  });

  it('after the cool-down a successful probe closes the circuit and traffic flows again', async () => {
    gw = await startClocked([upstream.url], BREAKER);
    answer = 503;
    for (let i = 0; i < 3; i++) await get(`${gw.url}/x`);
    answer = 200;
    gw.clock.now += 9_999;
    expect((await get(`${gw.url}/x`)).body.code).toBe('GW_CIRCUIT_OPEN');
    gw.clock.now += 1;
    expect((await get(`${gw.url}/probe`)).status).toBe(200);
    expect((await get(`${gw.url}/after`)).status).toBe(200);
    expect(upstream.seen.map((s) => s.url)).toEqual(['/x', '/x', '/x', '/probe', '/after']);
    expect(await metricValue(gw, 'portcullis_upstream_circuit_state', { target: upstream.url })).toBe(0);
    expect(gw.logs.lines.filter((l) => typeof l.circuit_to === 'string').map((l) => [l.circuit_from, l.circuit_to])).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
    expect(gw.logs.lines.some((l) => l.msg === 'upstream target recovered')).toBe(true);
  });

  it('a failed probe re-opens the circuit with a doubled cool-down, capped at maxOpenFor', async () => {
    gw = await startClocked([upstream.url], BREAKER);
    answer = 503;
    for (let i = 0; i < 3; i++) await get(`${gw.url}/x`);
    const retryAfters: unknown[] = [];
    for (const wait of [10_000, 20_000, 25_000]) {
      gw.clock.now += wait;
      expect((await get(`${gw.url}/probe`)).status).toBe(503); // the probe reached the upstream and failed
      retryAfters.push((await get(`${gw.url}/x`)).headers['retry-after']);
    }
    expect(retryAfters).toEqual(['20', '25', '25']);
    expect(upstream.seen.filter((s) => s.url === '/probe')).toHaveLength(3);
    expect(upstream.seen.filter((s) => s.url === '/x')).toHaveLength(3);
  });

  it('half-open lets exactly one probe through: a second request meanwhile gets GW_CIRCUIT_OPEN', async () => {
    gw = await startClocked([upstream.url], BREAKER);
    answer = 503;
    for (let i = 0; i < 3; i++) await get(`${gw.url}/x`);
    gw.clock.now += 10_000;
    answer = 'hold';
    const probe = get(`${gw.url}/probe`);
    await waitFor(() => held.length === 1);
    const meanwhile = await get(`${gw.url}/meanwhile`);
    expect(meanwhile.body.code).toBe('GW_CIRCUIT_OPEN');
    expect(meanwhile.headers['retry-after']).toBe('1');
    held.shift()!.writeHead(200).end('ok');
    expect((await probe).status).toBe(200);
    answer = 200;
    expect((await get(`${gw.url}/after`)).status).toBe(200);
    expect(upstream.seen.map((s) => s.url)).not.toContain('/meanwhile');
  });

  it('does not count statuses outside failureStatuses: ten 500s leave the circuit closed', async () => {
    gw = await startClocked([upstream.url], BREAKER);
    answer = 500;
    for (let i = 0; i < 10; i++) expect((await get(`${gw.url}/x`)).status).toBe(500);
    expect(upstream.seen).toHaveLength(10);
    expect(await metricValue(gw, 'portcullis_upstream_circuit_state', { target: upstream.url })).toBe(0);
  });

  it('counts the total timeout as a failure: a target that never answers opens its circuit', async () => {
    gw = await startClocked([upstream.url], '{ consecutiveFailures: 1, failureRatio: 0 }', '{ total: 150ms }');
    answer = 'hold';
    expect((await get(`${gw.url}/slow`)).body.code).toBe('GW_UPSTREAM_TIMEOUT');
    expect((await get(`${gw.url}/x`)).body.code).toBe('GW_CIRCUIT_OPEN');
    expect(upstream.seen.map((s) => s.url)).toEqual(['/slow']);
  });

  it('opens on the failure ratio over the window once minimumRequests results are in', async () => {
    gw = await startClocked([upstream.url], '{ consecutiveFailures: 0, failureRatio: 0.5, minimumRequests: 6, window: 10s }');
    for (const status of [200, 503, 200, 503, 200]) {
      answer = status;
      await get(`${gw.url}/x`);
    }
    answer = 503;
    expect((await get(`${gw.url}/x`)).status).toBe(503); // 3 of 6 failed: opens
    expect((await get(`${gw.url}/x`)).body.code).toBe('GW_CIRCUIT_OPEN');
    expect(upstream.seen).toHaveLength(6);
  });
});

describe('circuit breaker with connect failures', () => {
  let healthy: EchoUpstream;
  let gw: ClockedGateway | undefined;
  beforeAll(async () => (healthy = await startUpstreamEcho()));
  afterEach(async () => {
    await gw?.gateway.close(2000);
    gw = undefined;
    healthy.seen.length = 0;
  });
  afterAll(async () => healthy.close());

  it('a refused target answers 502 until its circuit opens, then a fast 503 GW_CIRCUIT_OPEN', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    gw = await startClocked([dead], '{ consecutiveFailures: 2, failureRatio: 0 }');
    expect((await get(`${gw.url}/a`)).body.code).toBe('GW_UPSTREAM_UNAVAILABLE');
    expect((await get(`${gw.url}/a`)).body.code).toBe('GW_UPSTREAM_UNAVAILABLE');
    const fast = await get(`${gw.url}/a`);
    expect(fast.body.code).toBe('GW_CIRCUIT_OPEN');
    expect(fast.headers['retry-after']).toBe('5');
  });

  it('skips the target whose circuit is open and sends every request to the other one', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    gw = await startClocked([dead, healthy.url], '{ consecutiveFailures: 1, failureRatio: 0 }');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(`${gw.url}/r${i}`)).status);
    // Round robin sends the first request to the dead target (502, no retries), then its circuit is open.
    expect(statuses).toEqual([502, 200, 200, 200, 200, 200]);
    expect(healthy.seen).toHaveLength(5);
  });
});

describe('circuit breaker config', () => {
  const base = (breaker: string) => `version: 1
upstreams:
  up:
    targets: [{ url: "http://127.0.0.1:1" }]
    circuitBreaker: ${breaker}
routes:
  - { name: all, match: { paths: ["/*"] }, forward: { upstream: up } }
`;

  it('refuses a breaker that could never open', () => {
    expect(() => loadConfigText(base('{ consecutiveFailures: 0, failureRatio: 0 }'), '/tmp/c.yaml')).toThrow(/could never open/);
  });

  it('refuses maxOpenFor shorter than openFor, naming both', () => {
    expect(() => loadConfigText(base('{ openFor: 30s, maxOpenFor: 10s }'), '/tmp/c.yaml')).toThrow(/maxOpenFor \(10s\) is shorter than openFor \(30s\)/);
  });

  it('refuses a failing status outside 5xx', () => {
    expect(() => loadConfigText(base('{ failureStatuses: [429] }'), '/tmp/c.yaml')).toThrow(/failureStatuses/);
  });
});

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

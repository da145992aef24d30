import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { deadPort, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

function gatewayYaml(upstream: string, routeExtra = ''): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  up: ${upstream}
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up${routeExtra} }
`;
}

/** Status, raw text and (when JSON) parsed body of one request. */
async function get(url: string, init: Parameters<typeof request>[1] = {}): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await request(url, init);
  const text = await res.body.text();
  return { status: res.statusCode, text, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Polls `check` until it holds, for at most `ms`: health state changes on timers, not on our call. */
async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One series of a gateway metric, found by one label. */
async function metric(gw: TestGateway, name: string, label: string, value: string): Promise<number | undefined> {
  const values = (await gw.gateway.metrics.registry.getSingleMetric(name)!.get()).values;
  return values.find((v) => v.labels[label] === value)?.value;
}
const healthOf = (gw: TestGateway, target: string) => metric(gw, 'portcullis_upstream_target_healthy', 'target', target);
const errorCount = async (gw: TestGateway, code: string) => (await metric(gw, 'portcullis_upstream_errors_total', 'code', code)) ?? 0;

/** What a 5xx problem+json must never carry: internals of the gateway or of the upstream. */
function expectNoInternals(text: string, body: Record<string, unknown>): void {
  expect(body.detail).toBeUndefined();
  expect(body.stack).toBeUndefined();
  expect(text).not.toMatch(/ECONNREFUSED|UND_ERR|stack|at .*\.ts|127\.0\.0\.1:\d+/);
}

describe('upstream balancing', () => {
  let a: EchoUpstream;
  let b: EchoUpstream;
  let gw: TestGateway | undefined;
  /** Requests held by a slow upstream, answered when the test releases them. */
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    const slowOrEcho = (req: { url?: string }, res: ServerResponse) => (req.url === '/hold' ? held.push(res) : res.end('ok'));
    a = await startUpstreamEcho((req, res) => slowOrEcho(req, res));
    b = await startUpstreamEcho((req, res) => slowOrEcho(req, res));
  });
  afterEach(async () => {
    for (const res of held.splice(0)) res.end('released');
    await gw?.close();
    a.seen.length = 0;
    b.seen.length = 0;
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('splits traffic 1:3 with weights 1 and 3 (smooth weighted round robin, exact counts)', async () => {
    gw = await startGateway(gatewayYaml(`{ targets: [{ url: "${a.url}", weight: 1 }, { url: "${b.url}", weight: 3 }] }`));
    for (let i = 0; i < 40; i++) expect((await get(`${gw.url}/rr/${i}`)).status).toBe(200);
    expect(a.seen).toHaveLength(10);
    expect(b.seen).toHaveLength(30);
    // Smooth: the light target is interleaved, never starved for a long run (nginx's B A B B cycle).
    const order = [...a.seen.map((s) => [Number(s.url.split('/')[2]), 'a'] as const), ...b.seen.map((s) => [Number(s.url.split('/')[2]), 'b'] as const)]
      .sort((x, y) => x[0] - y[0])
      .map((x) => x[1])
      .join('');
    expect(order.slice(0, 8)).toBe('babbbabb');
  });

  it('sends each target its own Host, not the first target\'s', async () => {
    gw = await startGateway(gatewayYaml(`{ targets: [{ url: "${a.url}" }, { url: "${b.url}" }] }`));
    for (let i = 0; i < 4; i++) await get(`${gw.url}/host`);
    expect(a.seen.map((s) => s.headers.host)).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${a.port}`]);
    expect(b.seen.map((s) => s.headers.host)).toEqual([`127.0.0.1:${b.port}`, `127.0.0.1:${b.port}`]);
  });

  it('least-requests sends new requests to the idle target while the other is busy with a slow one', async () => {
    gw = await startGateway(gatewayYaml(`{ targets: [{ url: "${a.url}" }, { url: "${b.url}" }], balancing: least-requests }`));
    const slow = request(`${gw.url}/hold`);
    await waitFor(() => held.length === 1);
    const busy = a.seen.length === 1 ? a : b;
    const idle = busy === a ? b : a;
    for (let i = 0; i < 10; i++) expect((await get(`${gw.url}/quick`)).status).toBe(200);
    expect(idle.seen.filter((s) => s.url === '/quick')).toHaveLength(10);
    expect(busy.seen.filter((s) => s.url === '/quick')).toHaveLength(0);
    held.shift()!.end('released');
    expect((await slow).statusCode).toBe(200);
  });

  it('least-requests spreads sequential traffic over idle targets instead of always picking the first', async () => {
    gw = await startGateway(gatewayYaml(`{ targets: [{ url: "${a.url}" }, { url: "${b.url}" }], balancing: least-requests }`));
    for (let i = 0; i < 10; i++) await get(`${gw.url}/spread`);
    expect(a.seen).toHaveLength(5);
    expect(b.seen).toHaveLength(5);
  });
});

describe('passive health checks and retries', () => {
  let live: EchoUpstream;
  let gw: TestGateway;
  let dead: string;

  beforeAll(async () => {
    live = await startUpstreamEcho();
    dead = `http://127.0.0.1:${await deadPort()}`;
    // Round robin over [dead, live]: on a fresh gateway the first pick is the dead target.
    gw = await startGateway(
      gatewayYaml(`{ targets: [{ url: "${dead}" }, { url: "${live.url}" }], retries: 1, healthChecks: { passive: { failures: 2, cooldown: 60s } } }`),
    );
  });
  afterAll(async () => {
    await gw.close();
    await live.close();
  });

  it('does not retry a POST with a body: 502 GW_UPSTREAM_UNAVAILABLE without internals', async () => {
    const reply = await get(`${gw.url}/orders`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(502);
    expect(reply.body.code).toBe('GW_UPSTREAM_UNAVAILABLE');
    expectNoInternals(reply.text, reply.body);
    expect(live.seen).toHaveLength(0);
  });

  it('retries a GET that could not connect on the other target: the client sees 200, not 502', async () => {
    expect((await get(`${gw.url}/one`)).status).toBe(200); // round robin: the live target
    expect((await get(`${gw.url}/two`)).status).toBe(200); // the dead target, retried on the live one
    expect(live.seen.map((s) => s.url)).toEqual(['/one', '/two']);
    expect(await errorCount(gw, 'ECONNREFUSED')).toBe(2);
  });

  it('marks the refusing target down after `failures` failures and sends all traffic to the healthy one', async () => {
    expect(await healthOf(gw, dead)).toBe(0);
    expect(gw.logs.lines.some((l) => l.msg === 'upstream target marked down' && l.target === dead)).toBe(true);
    for (let i = 0; i < 10; i++) expect((await get(`${gw.url}/after`)).status).toBe(200);
    // No further connection attempt reached the dead target.
    expect(await errorCount(gw, 'ECONNREFUSED')).toBe(2);
    expect(live.seen.filter((s) => s.url === '/after')).toHaveLength(10);
  });
});

describe('a single target that refuses connections', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(gatewayYaml(`{ targets: [{ url: "http://127.0.0.1:${await deadPort()}" }], retries: 2 }`));
  });
  afterAll(() => gw.close());

  it('answers 502 GW_UPSTREAM_UNAVAILABLE for a GET with no other target to retry on, not 503', async () => {
    const reply = await get(`${gw.url}/x`);
    expect(reply.status).toBe(502);
    expect(reply.body.code).toBe('GW_UPSTREAM_UNAVAILABLE');
    expectNoInternals(reply.text, reply.body);
    expect(await errorCount(gw, 'ECONNREFUSED')).toBe(1);
  });
});

describe('when every target is down', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const [p1, p2] = [await deadPort(), await deadPort()];
    gw = await startGateway(
      gatewayYaml(`{ targets: [{ url: "http://127.0.0.1:${p1}" }, { url: "http://127.0.0.1:${p2}" }], retries: 1, healthChecks: { passive: { failures: 1, cooldown: 60s } } }`),
    );
  });
  afterAll(() => gw.close());

  it('answers 502 while trying, then 503 GW_NO_HEALTHY_UPSTREAM once both are marked down', async () => {
    const first = await get(`${gw.url}/x`);
    expect(first.status).toBe(502);
    expect(first.body.code).toBe('GW_UPSTREAM_UNAVAILABLE');
    const second = await get(`${gw.url}/x`);
    expect(second.status).toBe(503);
    expect(second.body.code).toBe('GW_NO_HEALTHY_UPSTREAM');
    expect(second.body.title).toBe('Service Unavailable');
    expectNoInternals(second.text, second.body);
  });
});

describe('active health checks', () => {
  let flaky: EchoUpstream;
  let steady: EchoUpstream;
  let gw: TestGateway;
  let healthStatus = 200;

  beforeAll(async () => {
    flaky = await startUpstreamEcho((req, res) => res.writeHead(req.url === '/health' ? healthStatus : 200).end('ok'));
    steady = await startUpstreamEcho((_req, res) => res.end('ok'));
    gw = await startGateway(
      gatewayYaml(
        `{ targets: [{ url: "${flaky.url}" }, { url: "${steady.url}" }], healthChecks: { active: { path: /health, interval: 50ms, timeout: 500ms, healthyThreshold: 2, unhealthyThreshold: 2 } } }`,
      ),
    );
  });
  afterAll(async () => {
    await gw.close();
    await flaky.close();
    await steady.close();
  });

  const traffic = (u: EchoUpstream) => u.seen.filter((s) => s.url === '/work').length;

  it('probes every target with GET on the health path', async () => {
    await waitFor(() => flaky.seen.some((s) => s.url === '/health') && steady.seen.some((s) => s.url === '/health'));
    expect(flaky.seen.find((s) => s.url === '/health')!.headers['user-agent']).toBe('portcullis-health-check');
  });

  it('marks a target down when its health endpoint answers 500, and sends it no traffic', async () => {
    healthStatus = 500;
    await waitFor(async () => (await healthOf(gw, flaky.url)) === 0);
    const before = traffic(flaky);
    for (let i = 0; i < 6; i++) expect((await get(`${gw.url}/work`)).status).toBe(200);
    expect(traffic(flaky)).toBe(before);
  });

  it('marks it up again once the health endpoint answers 200, and traffic returns', async () => {
    healthStatus = 200;
    await waitFor(async () => (await healthOf(gw, flaky.url)) === 1);
    for (let i = 0; i < 6; i++) expect((await get(`${gw.url}/work`)).status).toBe(200);
    expect(traffic(flaky)).toBe(3);
  });
});

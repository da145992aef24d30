import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestartPolicy } from '../../src/cluster/restart-policy.js';
import {
  ChildGateway,
  ensureBuilt,
  freePort,
  getFresh,
  killChildren,
  removeTempDirs,
  processGone,
  replaceFile,
  reportTiming,
  statusOf,
  tempDir,
  waitFor,
} from '../helpers/child-gateway.js';
import { startUpstreamEcho, type EchoUpstream } from '../helpers/servers.js';

function yaml(upstreamUrl: string, port: number, admin: number, stamp: string): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: ${port} }]
  workers: 2
admin: { port: ${admin} }
upstreams:
  up: { targets: [{ url: "${upstreamUrl}" }] }
policies:
  - name: template
    config: { responseHeader: x-stamp, responseValue: ${stamp} }
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
`;
}

/** Sum of every sample of a metric in a Prometheus text exposition. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function startCluster(file: string, admin: number): Promise<ChildGateway> {
  const started = performance.now();
  const child = new ChildGateway(file);
  await waitFor(async () => (await statusOf(admin, '/ready')) === 200, 30_000, `the cluster to be ready\n${child.stderr}`);
  // Ready means both workers told the primary; their own log lines may still be in the pipe.
  await waitFor(() => child.gatewayPids().length === 2, 10_000, 'both workers to log that they listen');
  reportTiming('cluster of 2 workers, spawn to ready', performance.now() - started);
  return child;
}

// Every config folder the tests wrote, whatever happened.
afterAll(removeTempDirs);

describe('a cluster with server.workers: 2', () => {
  let upstream: EchoUpstream;
  let child: ChildGateway;
  let file: string;
  let port: number;
  let admin: number;

  beforeAll(async () => {
    await ensureBuilt();
    upstream = await startUpstreamEcho();
    [port, admin] = [await freePort(), await freePort()];
    file = join(tempDir(), 'gateway.yaml');
    writeFileSync(file, yaml(upstream.url, port, admin, 'v1'));
    child = await startCluster(file, admin);
  }, 180_000);
  afterAll(async () => {
    await killChildren();
    await upstream.close();
  });

  /** Sends `count` requests, each on a new connection; returns their stamps and the pids that served them. */
  async function burst(count: number): Promise<{ stamps: Set<unknown>; pids: Set<number> }> {
    const answers = [];
    for (let i = 0; i < count; i++) answers.push(await getFresh(port, `/r/${i}`));
    expect(answers.map((a) => a.status)).toEqual(Array(count).fill(200));
    const ids = new Set(answers.map((a) => a.headers['x-request-id']));
    const served = () => child.lines.filter((l) => l.type === 'access' && ids.has(l.request_id as string));
    // Access lines are written when each response closes: a moment after the client has it.
    await waitFor(() => served().length === count, 10_000, 'the access lines of the burst');
    const pids = new Set(served().map((l) => l.pid!));
    return { stamps: new Set(answers.map((a) => a.headers['x-stamp'])), pids };
  }

  it('serves requests on both workers and sums their counters on the primary admin /metrics', async () => {
    expect(child.gatewayPids()).toHaveLength(2);
    const { pids } = await burst(20);
    expect([...pids].sort()).toEqual(child.gatewayPids().sort());

    const metrics = await getFresh(admin, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metricSum(metrics.body, 'portcullis_requests_total')).toBe(20);
    expect(metrics.body).toContain('portcullis_requests_total{route="all",method="GET",status="200"} 20');
    expect(metrics.body).toContain('portcullis_cluster_workers{state="listening"} 2');
  });

  it('applies a changed config file on every worker', async () => {
    const from = child.lines.length;
    const written = performance.now();
    replaceFile(file, yaml(upstream.url, port, admin, 'v2'));
    const done = await child.waitForLine((l) => l.msg === 'config reloaded on all workers', 10_000, 'the reload to reach every worker', from);
    reportTiming('cluster reload, file replaced to every worker acknowledged', performance.now() - written);
    expect(done).toMatchObject({ role: 'primary', applied: 2, refused: 0 });

    const { stamps, pids } = await burst(20);
    expect([...stamps]).toEqual(['v2']);
    expect(pids.size).toBe(2);
  });

  it('refuses a bad file once, in the primary, with located issues, and every worker keeps serving', async () => {
    const from = child.lines.length;
    replaceFile(file, yaml(upstream.url, port, admin, 'v3').replace('forward: { upstream: up }', 'forward: { upstream: nowhere }'));
    const refused = await child.waitForLine((l) => l.msg === 'config reload refused; the previous config keeps serving', 10_000, 'the refusal', from);
    expect(refused).toMatchObject({ role: 'primary', level: 'error' });
    expect(refused.issues).toEqual([`${file}:14:26: routes[0].forward.upstream: unknown upstream "nowhere"`]);

    const { stamps, pids } = await burst(20);
    expect([...stamps]).toEqual(['v2']);
    expect(pids.size).toBe(2);
    // One error line per reload attempt, from the primary; the workers never saw the file.
    const since = () => child.lines.slice(from);
    const attempts = () => since().filter((l) => l.msg === 'config reload requested').length;
    await waitFor(() => since().filter((l) => l.level === 'error').length === attempts(), 5_000, 'one error line per attempt');
    expect(since().filter((l) => l.level === 'error' && l.role !== 'primary')).toEqual([]);
    expect(since().filter((l) => l.msg === 'config reloaded')).toEqual([]);
  });

  it('restarts a worker that dies, with the last good config, and is ready again', async () => {
    const before = child.gatewayPids();
    const from = child.lines.length;
    process.kill(before[0]!, 'SIGKILL');
    await child.waitForLine((l) => l.msg === 'worker exited unexpectedly' && l.signal === 'SIGKILL', 10_000, 'the primary to see the exit', from);
    await child.waitForLine((l) => l.msg === 'worker forked', 10_000, 'the replacement to be forked', from);
    // The replacement is still booting and cannot answer the primary's metric request yet: the
    // primary waits for it to say hello rather than fail the scrape.
    const scrape = await getFresh(admin, '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain('portcullis_cluster_workers{state="desired"} 2');
    const fresh = await child.waitForLine((l) => l.msg === 'gateway listening' && !before.includes(l.pid!), 30_000, 'a new worker', from);
    await waitFor(async () => (await statusOf(admin, '/ready')) === 200, 10_000, 'ready again');

    // The file on disk is still the bad one: the new worker runs the last config that was good.
    const { stamps, pids } = await burst(20);
    expect([...stamps]).toEqual(['v2']);
    expect(pids).toContain(fresh.pid);
    expect((await getFresh(admin, '/metrics')).body).toContain('portcullis_cluster_worker_restarts_total 1');
  });
});

describe('a cluster whose primary disappears', () => {
  let upstream: EchoUpstream;

  beforeAll(async () => {
    await ensureBuilt();
    // `/slow` answers after 1.5 s: a request still in flight when the primary dies.
    upstream = await startUpstreamEcho((req, res) => {
      const reply = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`done ${req.url}`);
      if (req.url === '/slow') setTimeout(reply, 1500);
      else reply();
    });
  }, 180_000);
  afterAll(async () => {
    await killChildren();
    await upstream.close();
  });

  it('has its workers finish the requests in flight, then exit, and the listener stop accepting', async () => {
    const [port, admin] = [await freePort(), await freePort()];
    const file = join(tempDir(), 'gateway.yaml');
    writeFileSync(file, yaml(upstream.url, port, admin, 'v1'));
    const child = await startCluster(file, admin);
    const workers = child.gatewayPids();
    expect(workers).toHaveLength(2);

    const inFlight = getFresh(port, '/slow');
    await waitFor(() => upstream.seen.some((s) => s.url === '/slow'), 10_000, 'the slow request to reach the upstream');
    const killedAt = performance.now();
    child.signal('SIGKILL');
    // Without the drain, node:cluster exits the worker on the spot and this request is cut.
    expect(await inFlight).toMatchObject({ status: 200, body: 'done /slow' });
    await waitFor(() => workers.every(processGone), 10_000, 'the workers to exit');
    reportTiming('primary killed to workers gone', performance.now() - killedAt);
    expect(await statusOf(port, '/r')).toBe(0);
  });
});

describe('a cluster that cannot start', () => {
  beforeAll(ensureBuilt, 180_000);
  afterAll(killChildren);

  it('exits 1 when a worker fails before the cluster was ever ready, instead of restarting it', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    try {
      const port = (taken.address() as AddressInfo).port;
      const file = join(tempDir(), 'gateway.yaml');
      writeFileSync(file, yaml('http://127.0.0.1:9', port, await freePort(), 'v1'));
      const child = new ChildGateway(file);
      expect(await child.exited).toEqual({ code: 1, signal: null });
      expect(child.lines.find((l) => l.level === 'fatal')?.msg).toBe('a worker failed before the cluster was ready; stopping');
      expect(child.stderr).toContain('EADDRINUSE');
      expect(child.lines.filter((l) => l.msg === 'worker forked')).toHaveLength(2);
    } finally {
      taken.close();
    }
  });
});

describe('the worker restart policy', () => {
  it('backs off exponentially up to a ceiling and gives up past the crash cap within the window', () => {
    let now = 0;
    const policy = new RestartPolicy({ baseDelayMs: 100, maxDelayMs: 1000, maxRestarts: 6, windowMs: 60_000 }, () => now);
    const delays = Array.from({ length: 6 }, () => {
      now += 1000;
      return policy.next();
    });
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    now += 1000;
    expect(policy.next()).toBeUndefined();
    // Crashes older than the window are forgotten: a worker that crashes now and then is restarted.
    now += 60_000;
    expect(policy.next()).toBe(100);
  });
});

import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildGateway, ensureBuilt, freePort, getFresh, killChildren, removeTempDirs, reportTiming, statusOf, tempDir, waitFor, type HttpAnswer } from '../helpers/child-gateway.js';
import { startUpstreamEcho, type EchoUpstream } from '../helpers/servers.js';

const SHUTDOWN_MS = 15_000;
const FAST_CLIENTS = 4;
/** Errors a client may see for a request the gateway never read: the connection was refused or closed. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function yaml(upstream: EchoUpstream, port: number, admin: number, workers: number, shutdownMs = SHUTDOWN_MS): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: ${port} }]
  workers: ${workers}
  timeouts: { shutdown: ${shutdownMs}ms }
admin: { port: ${admin} }
logging: { accessLog: false }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
`;
}

/** True when a new TCP connection to the port is refused (nothing listens any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED'));
  });
}

interface Outcome {
  id: string;
  status?: number;
  body?: string;
  error?: string;
}

/** Sends requests one after another on one kept-alive connection until `running()` is false. */
async function steadyClient(port: number, name: string, outcomes: Outcome[], running: () => boolean): Promise<void> {
  const client = new Client(`http://127.0.0.1:${port}`);
  for (let i = 0; running(); i++) {
    const outcome: Outcome = { id: `${name}-${i}` };
    outcomes.push(outcome);
    try {
      const res = await client.request({ path: `/fast/${outcome.id}`, method: 'GET', headers: { 'x-test-id': outcome.id } });
      outcome.body = await res.body.text();
      outcome.status = res.statusCode;
    } catch (error) {
      outcome.error = (error as NodeJS.ErrnoException).code ?? String(error);
      // Refused from now on: no need to spin.
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await client.destroy();
}

// Every config folder the tests wrote, whatever happened.
afterAll(removeTempDirs);

describe.each([1, 2])('graceful shutdown under load with server.workers: %i', (workers) => {
  const held: (() => void)[] = [];
  let upstream: EchoUpstream;

  beforeAll(async () => {
    await ensureBuilt();
    // Requests to /slow/* wait at the upstream until the test releases them.
    upstream = await startUpstreamEcho((req, res) => {
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: req.headers['x-test-id'] }));
      if (req.url!.startsWith('/slow/')) held.push(answer);
      else answer();
    });
  }, 180_000);
  afterAll(async () => {
    await upstream.close();
  });
  afterEach(killChildren);

  it('completes every request the gateway accepted, refuses new connections, and exits 0 within the deadline', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const admin = await freePort();
    const file = join(tempDir(), 'gateway.yaml');
    writeFileSync(file, yaml(upstream, port, admin, workers));
    const child = new ChildGateway(file);
    await waitFor(async () => (await statusOf(admin, '/ready')) === 200, 20_000, `gateway ready\n${child.stderr}`);

    let running = true;
    const outcomes: Outcome[] = [];
    const clients = Array.from({ length: FAST_CLIENTS }, (_, n) => steadyClient(port, `c${n}`, outcomes, () => running));
    const slowCount = 2 * workers;
    const slow: Promise<HttpAnswer>[] = [];
    for (let n = 0; n < slowCount; n++) slow.push(getFresh(port, `/slow/${n}`, { 'x-test-id': `slow-${n}` }));
    await waitFor(() => held.length === slowCount, 10_000, 'the slow requests to reach the upstream');
    await waitFor(() => outcomes.filter((o) => o.status === 200).length >= 50, 10_000, 'a steady stream of answered requests');

    const sigtermAt = performance.now();
    child.signal('SIGTERM');

    // The listener closes at once while the slow requests are still held (the process drains).
    await waitFor(() => refused(port), 10_000, 'new connections to be refused');
    reportTiming(`workers ${workers}: SIGTERM to connections refused`, performance.now() - sigtermAt);
    expect(await statusOf(admin, '/ready')).toBe(503);
    expect(held).toHaveLength(slowCount);

    const releasedAt = performance.now();
    for (const answer of held.splice(0)) answer();
    const slowAnswers = await Promise.all(slow);
    expect(slowAnswers.map((a) => [a.status, JSON.parse(a.body).id])).toEqual(Array.from({ length: slowCount }, (_, n) => [200, `slow-${n}`]));

    const exit = await Promise.race([child.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), SHUTDOWN_MS))]);
    const exitedAt = performance.now();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAt - sigtermAt).toBeLessThan(SHUTDOWN_MS);
    reportTiming(`workers ${workers}: release of the held requests to process exit`, exitedAt - releasedAt);
    running = false;
    await Promise.all(clients);

    // Accepted = the gateway read it and forwarded it: every such request got its 200 and body.
    const forwarded = new Set(upstream.seen.map((s) => s.headers['x-test-id'] as string));
    const fast = outcomes.filter((o) => o.id.startsWith('c'));
    for (const outcome of fast.filter((o) => forwarded.has(o.id))) expect(outcome).toMatchObject({ status: 200, body: JSON.stringify({ id: outcome.id }) });
    // Whatever failed failed at the connection, before the gateway read it; nothing got a 5xx.
    expect(fast.filter((o) => o.status !== undefined && o.status !== 200)).toEqual([]);
    const failed = fast.filter((o) => o.status === undefined);
    expect(failed.filter((o) => forwarded.has(o.id) || !CONNECTION_ERRORS.has(o.error!))).toEqual([]);
    expect(failed.some((o) => o.error === 'ECONNREFUSED')).toBe(true);

    const stopped = child.lines.filter((l) => l.msg === 'gateway stopped');
    expect(stopped.map((l) => l.outcome)).toEqual(Array(workers).fill('drained'));
  });
});

describe('graceful shutdown past timeouts.shutdown', () => {
  const held: (() => void)[] = [];
  let upstream: EchoUpstream;

  beforeAll(async () => {
    await ensureBuilt();
    upstream = await startUpstreamEcho((_req, res) => held.push(() => res.end('late')));
  }, 180_000);
  afterAll(async () => {
    for (const answer of held.splice(0)) answer();
    await upstream.close();
  });
  afterEach(killChildren);

  it('closes the connections still busy at the deadline and exits 0', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const admin = await freePort();
    const file = join(tempDir(), 'gateway.yaml');
    writeFileSync(file, yaml(upstream, port, admin, 1, 1000));
    const child = new ChildGateway(file);
    await waitFor(async () => (await statusOf(admin, '/ready')) === 200, 20_000, `gateway ready\n${child.stderr}`);
    const stuck = getFresh(port, '/stuck').then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    await waitFor(() => held.length === 1, 10_000, 'the request to reach the upstream');

    const sigtermAt = performance.now();
    child.signal('SIGTERM');
    const exit = await child.exited;
    const took = performance.now() - sigtermAt;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(10_000);
    reportTiming('deadline 1000 ms: SIGTERM to exit', took);
    expect(await stuck).toBe('ECONNRESET');
    expect(child.lines.find((l) => l.msg === 'shutdown deadline reached; closing connections')).toMatchObject({ inflight: 1 });
    expect(child.lines.find((l) => l.msg === 'gateway stopped')).toMatchObject({ outcome: 'deadline' });
  });
});

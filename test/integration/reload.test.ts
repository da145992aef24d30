import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { ChildGateway, ensureBuilt, freePort, getFresh, killChildren, removeTempDirs, replaceFile, reportTiming, statusOf, tempDir, waitFor } from '../helpers/child-gateway.js';
import { LogCapture, startUpstreamEcho, type EchoUpstream } from '../helpers/servers.js';

interface Version {
  stamp: string;
  /** Upstream of the `old` route. */
  oldUpstream: 'a' | 'b';
  /** Adds the `new` route. */
  newRoute: boolean;
  listen?: { port: number; admin: number };
  logLevel?: string;
}

/** v1: route `old` to upstream a, stamped v1. v2: `old` moves to b, stamped v2, and `new` appears. */
function yaml(a: EchoUpstream, b: EchoUpstream, v: Version): string {
  const listen = v.listen ?? { port: 0, admin: 0 };
  return `version: 1
${v.logLevel === undefined ? '' : `logging: { level: ${v.logLevel} }\n`}server:
  listeners: [{ host: 127.0.0.1, port: ${listen.port} }]
admin: { enabled: ${v.listen !== undefined}, port: ${listen.admin} }
upstreams:
  a: { targets: [{ url: "${a.url}" }] }
  b: { targets: [{ url: "${b.url}" }] }
policies:
  - name: template
    config: { responseHeader: x-stamp, responseValue: ${v.stamp} }
routes:
  - name: old
    match: { paths: ["/old/*"] }
    forward: { upstream: ${v.oldUpstream} }
${v.newRoute ? '  - name: new\n    match: { paths: ["/new/*"] }\n    forward: { upstream: a }\n' : ''}`;
}

const V1: Version = { stamp: 'v1', oldUpstream: 'a', newRoute: false };
const V2: Version = { stamp: 'v2', oldUpstream: 'b', newRoute: true };

/** Requests to /old/slow* wait at upstream a until released; `held` resolves when one arrives. */
function holdingUpstream(): { start: () => Promise<EchoUpstream>; held: () => Promise<void>; release: () => void } {
  const waiting: (() => void)[] = [];
  let arrived: () => void = () => undefined;
  let arrival = new Promise<void>((r) => (arrived = r));
  return {
    start: () =>
      startUpstreamEcho((req, res) => {
        const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ from: 'a', url: req.url }));
        if (!req.url!.includes('slow')) return answer();
        waiting.push(answer);
        arrived();
      }),
    held: () => arrival,
    release: () => {
      for (const answer of waiting.splice(0)) answer();
      arrival = new Promise<void>((r) => (arrived = r));
    },
  };
}

// Every config folder the tests wrote, whatever happened.
afterAll(removeTempDirs);

describe('hot reload in one process', () => {
  const hold = holdingUpstream();
  let a: EchoUpstream;
  let b: EchoUpstream;
  let file: string;
  let gateway: Gateway;
  let logs: LogCapture;
  let url: string;

  beforeAll(async () => {
    a = await hold.start();
    b = await startUpstreamEcho();
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });
  beforeEach(async () => {
    file = join(tempDir(), 'gateway.yaml');
    writeFileSync(file, yaml(a, b, V1));
    logs = new LogCapture();
    const logger = pino({ level: 'info', base: null, timestamp: false }, logs);
    gateway = await Gateway.start(loadConfigFile(file), { logger, metrics: new GatewayMetrics({ defaultMetrics: false }) });
    url = `http://127.0.0.1:${gateway.ports[0]}`;
  });
  afterEach(async () => {
    hold.release();
    await gateway.close(2000);
  });

  async function get(path: string) {
    const res = await request(`${url}${path}`);
    const body = await res.body.text();
    return { status: res.statusCode, stamp: res.headers['x-stamp'], body };
  }

  async function rejectedReloads(): Promise<string> {
    return gateway.metrics.registry.getSingleMetricAsString('portcullis_config_reloads_total');
  }

  it('serves a route added to the file, and the changed behaviour of an existing route, after reloadFromFile', async () => {
    expect((await get('/new/x')).status).toBe(404);
    expect(await get('/old/x')).toMatchObject({ status: 200, stamp: 'v1' });
    const seenByB = b.seen.length;

    replaceFile(file, yaml(a, b, V2));
    expect(await gateway.reloadFromFile()).toBe(true);

    expect(await get('/new/x')).toMatchObject({ status: 200, stamp: 'v2' });
    expect(await get('/old/x')).toMatchObject({ status: 200, stamp: 'v2' });
    expect(b.seen.slice(seenByB).map((s) => s.url)).toEqual(['/old/x']);
    expect(logs.lines.some((l) => l.msg === 'config reloaded')).toBe(true);
  });

  it('applies logging.level on reload, to the gateway and to the policies of the new config', async () => {
    replaceFile(file, yaml(a, b, { ...V2, logLevel: 'warn' }));
    expect(await gateway.reloadFromFile()).toBe(true);
    expect(logs.lines.find((l) => l.msg === 'log level changed')).toMatchObject({ from: 'info', to: 'warn' });
    // The info line that follows every reload is now below the level.
    expect(logs.lines.some((l) => l.msg === 'config reloaded')).toBe(false);
    expect(gateway.logger.isLevelEnabled('info')).toBe(false);
    expect(gateway.logger.child({ policy: 'any' }).isLevelEnabled('info')).toBe(false);

    replaceFile(file, yaml(a, b, { ...V1, logLevel: 'debug' }));
    expect(await gateway.reloadFromFile()).toBe(true);
    expect(logs.lines.some((l) => l.msg === 'config reloaded')).toBe(true);
    expect(gateway.logger.isLevelEnabled('debug')).toBe(true);
    // A refused file changes nothing, its level included.
    writeFileSync(file, `${yaml(a, b, { ...V1, logLevel: 'error' })}\nroutes: [ { name: broken\n`);
    expect(await gateway.reloadFromFile()).toBe(false);
    expect(gateway.logger.isLevelEnabled('debug')).toBe(true);
  });

  it('refuses a file with a YAML syntax error, logs it at error level and keeps serving the old config', async () => {
    writeFileSync(file, `${yaml(a, b, V2)}\nroutes: [ { name: broken\n`);
    expect(await gateway.reloadFromFile()).toBe(false);

    const errors = logs.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('config reload refused; the previous config keeps serving');
    expect(String((errors[0]!.err as { message: string }).message)).toContain(file);
    expect(await get('/old/x')).toMatchObject({ status: 200, stamp: 'v1' });
    expect((await get('/new/x')).status).toBe(404);
    expect(await rejectedReloads()).toContain('portcullis_config_reloads_total{result="rejected"} 1');
  });

  it('refuses a file naming an unknown upstream, logs the located field and keeps serving the old config', async () => {
    writeFileSync(file, yaml(a, b, V2).replace('forward: { upstream: b }', 'forward: { upstream: nowhere }'));
    expect(await gateway.reloadFromFile()).toBe(false);

    const errors = logs.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    const message = String((errors[0]!.err as { message: string }).message);
    expect(message).toContain(`${file}:14:`);
    expect(message).toContain('routes[0].forward.upstream: unknown upstream "nowhere"');
    expect(await get('/old/x')).toMatchObject({ status: 200, stamp: 'v1' });
    expect(await rejectedReloads()).toContain('portcullis_config_reloads_total{result="rejected"} 1');
  });

  it('lets a request in flight during a reload finish on the snapshot it started on', async () => {
    const slow = get('/old/slow');
    await hold.held();

    replaceFile(file, yaml(a, b, V2));
    expect(await gateway.reloadFromFile()).toBe(true);
    // New requests already take the new snapshot: route `old` now goes to b, stamped v2.
    expect(await get('/old/fast')).toMatchObject({ status: 200, stamp: 'v2' });
    expect(b.seen.at(-1)!.url).toBe('/old/fast');

    hold.release();
    // The held one kept its snapshot: upstream a's pool stayed open for it, and its response
    // went through the old chain (stamp v1).
    const answer = await slow;
    expect(answer).toMatchObject({ status: 200, stamp: 'v1' });
    expect(JSON.parse(answer.body)).toEqual({ from: 'a', url: '/old/slow' });
  });
});

describe('hot reload of a running `portcullis start` process', () => {
  let a: EchoUpstream;
  let b: EchoUpstream;
  let listen: { port: number; admin: number };

  beforeAll(async () => {
    await ensureBuilt();
    a = await startUpstreamEcho();
    b = await startUpstreamEcho();
  }, 180_000);
  afterAll(async () => {
    await a.close();
    await b.close();
  });
  beforeEach(async () => {
    listen = { port: await freePort(), admin: await freePort() };
  });
  afterEach(killChildren);

  async function startChild(file: string): Promise<ChildGateway> {
    const child = new ChildGateway(file);
    await waitFor(async () => (await statusOf(listen.admin, '/ready')) === 200, 15_000, `gateway ready\n${child.stderr}`);
    expect((await getFresh(listen.port, '/new/x')).status).toBe(404);
    return child;
  }

  /** Polls until route `new` answers; returns the milliseconds it took. */
  async function untilNewRouteAnswers(): Promise<number> {
    const started = performance.now();
    await waitFor(async () => (await statusOf(listen.port, '/new/x')) === 200, 10_000, 'the new route to answer');
    return performance.now() - started;
  }

  it('picks up a replaced config file through the file watcher', async () => {
    const file = join(tempDir(), 'gateway.yaml');
    writeFileSync(file, yaml(a, b, { ...V1, listen }));
    const child = await startChild(file);

    replaceFile(file, yaml(a, b, { ...V2, listen }));
    reportTiming('file watcher reload, replace to new route answering', await untilNewRouteAnswers());

    const old = await getFresh(listen.port, '/old/x');
    expect(old.headers['x-stamp']).toBe('v2');
    expect(JSON.parse(old.body).url).toBe('/old/x');
    await child.waitForLine((l) => l.msg === 'config reload requested' && l.trigger === 'file', 5_000, 'the reload line');
  });

  it('reloads on SIGHUP, here for a file behind a symlink whose changes the watcher cannot see', async () => {
    // Kubernetes mounts ConfigMaps this way: the file is a symlink into a directory swapped on update.
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    const real = join(dir, 'data', 'gateway.yaml');
    const file = join(dir, 'gateway.yaml');
    writeFileSync(real, yaml(a, b, { ...V1, listen }));
    symlinkSync(real, file);
    const child = await startChild(file);

    writeFileSync(real, yaml(a, b, { ...V2, listen }));
    child.signal('SIGHUP');
    reportTiming('SIGHUP reload, signal to new route answering', await untilNewRouteAnswers());

    expect((await getFresh(listen.port, '/old/x')).headers['x-stamp']).toBe('v2');
    await child.waitForLine((l) => l.msg === 'config reloaded', 5_000, 'the reload line');
    const triggers = child.lines.filter((l) => l.msg === 'config reload requested').map((l) => l.trigger);
    expect(triggers).toEqual(['SIGHUP']);
  });
});

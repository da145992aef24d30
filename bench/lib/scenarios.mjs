// The scenarios: how each proxy under test is started, and the CPU layout they share.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { proxyConf, startNginx } from './nginx.mjs';
import { start } from './procs.mjs';

export const SCENARIO_NAMES = [
  'direct',
  'nginx',
  'fast-gateway',
  'portcullis-bare',
  'portcullis-core-policies',
  'portcullis-bare-2-workers',
];
/** Extra run for the 2-worker ratio when the 2-worker row cannot use a CPU set of its own. */
export const REFERENCE_NAME = 'portcullis-bare-1-worker-same-cpus';

/**
 * Which CPUs the proxy and the load side (load generator + upstream) use.
 * - >= 3 CPUs: proxy on A (A,B with 2 workers), load on C: every row has the same rig.
 * - 2 CPUs: proxy on A, load on B; the 2-worker row takes A,B and shares B with the load side,
 *   so its ratio is taken against a 1-worker run on the same A,B layout (REFERENCE_NAME).
 * - 1 CPU or no taskset: nothing pinned.
 */
export function cpuLayout(taskset, allowed) {
  if (!taskset) {
    return { pinned: false, note: 'taskset not found: nothing is pinned, figures are noisier', separate2w: true };
  }
  if (allowed.length < 2) {
    return { pinned: false, note: `only ${allowed.length} CPU available: nothing is pinned`, separate2w: true };
  }
  const [a, b, c] = allowed;
  if (allowed.length >= 3) {
    return {
      pinned: true,
      proxy1: `${a}`,
      proxy2: `${a},${b}`,
      load: `${c}`,
      separate2w: true,
      note: `proxy on CPU ${a} (CPUs ${a},${b} with 2 workers); load generator and upstream on CPU ${c}`,
    };
  }
  return {
    pinned: true,
    proxy1: `${a}`,
    proxy2: `${a},${b}`,
    load: `${b}`,
    separate2w: false,
    note:
      `proxy on CPU ${a}; load generator and upstream on CPU ${b}. Only 2 CPUs: the 2-worker row runs on ` +
      `CPUs ${a},${b}, sharing CPU ${b} with the load side; its ratio is against 1 worker on the same CPUs`,
  };
}

/** The policies of the issue, attached to the core-policies route. */
export const CORE_POLICIES = [
  { name: 'ip-restriction', config: { allow: ['127.0.0.0/8', '::1/128'] } },
  { name: 'request-size-limit', config: { maxBodyBytes: '1mb' } },
  { name: 'allowed-methods', config: { methods: ['GET', 'POST'] } },
  { name: 'security-headers', config: {} },
  { name: 'cors', config: { origins: ['https://app.example.com'] } },
];

export function portcullisConfig({ port, upstreamPort, workers, policies }) {
  return {
    version: 1,
    server: { listeners: [{ host: '127.0.0.1', port }], workers },
    admin: { enabled: false },
    logging: { level: 'info', accessLog: true, destination: '/dev/null' },
    upstreams: { up: { targets: [{ url: `http://127.0.0.1:${upstreamPort}` }], connections: 64 } },
    routes: [{ name: 'bench', match: { paths: ['/*'] }, forward: { upstream: 'up' }, policies }],
  };
}

function startPortcullis(ctx, port, { name, workers, policies, cpus }) {
  const main = path.join(ctx.repoRoot, 'dist', 'main.js');
  if (!existsSync(main)) {
    return { error: 'dist/main.js does not exist (the gateway entry point is not built yet)' };
  }
  const dir = path.join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'portcullis.yaml');
  writeFileSync(file, YAML.stringify(portcullisConfig({ port, upstreamPort: ctx.upstreamPort, workers, policies })));
  return {
    handle: start(name, process.execPath, [main, 'start', '--config', file], {
      cpus,
      taskset: ctx.taskset,
      cwd: ctx.repoRoot,
      env: { ...process.env, NODE_ENV: 'production' },
    }),
    readyMs: 20_000,
  };
}

/**
 * Each scenario: start(ctx, port) returns { handle, readyMs } for the process to measure, or
 * { error }. `direct` starts nothing: the load goes to the upstream and its CPU is reported.
 */
export function scenarios(ctx) {
  const L = ctx.layout;
  return {
    direct: { direct: true },
    nginx: {
      start: (c, port) =>
        c.nginx.nginx
          ? {
              handle: startNginx('nginx-proxy', {
                nginx: c.nginx.nginx,
                version: c.nginx.version,
                tmpDir: c.tmpDir,
                conf: (prefix) => proxyConf(prefix, port, c.upstreamPort),
                cpus: L.proxy1,
                taskset: c.taskset,
              }),
              readyMs: 10_000,
            }
          : { error: `nginx unavailable: ${c.nginx.notes.join('; ') || 'not installed'}` },
    },
    'fast-gateway': {
      start: (c, port) => ({
        handle: start('fast-gateway', process.execPath, [path.join(c.benchDir, 'lib', 'fast-gateway-server.cjs')], {
          cpus: L.proxy1,
          taskset: c.taskset,
          cwd: c.repoRoot,
          env: { ...process.env, NODE_ENV: 'production', PORT: String(port), UPSTREAM: `http://127.0.0.1:${c.upstreamPort}` },
        }),
        readyMs: 15_000,
      }),
    },
    'portcullis-bare': {
      start: (c, port) => startPortcullis(c, port, { name: 'portcullis-bare', workers: 1, policies: [], cpus: L.proxy1 }),
    },
    'portcullis-core-policies': {
      policiesCheck: true,
      start: (c, port) =>
        startPortcullis(c, port, { name: 'portcullis-core-policies', workers: 1, policies: CORE_POLICIES, cpus: L.proxy1 }),
    },
    'portcullis-bare-2-workers': {
      start: (c, port) =>
        startPortcullis(c, port, { name: 'portcullis-bare-2-workers', workers: 2, policies: [], cpus: L.proxy2 }),
    },
    [REFERENCE_NAME]: {
      reference: true,
      start: (c, port) => startPortcullis(c, port, { name: REFERENCE_NAME, workers: 1, policies: [], cpus: L.proxy2 }),
    },
  };
}

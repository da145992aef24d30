// The scenarios: how each proxy under test is started, and the CPU layout they share.
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { proxyConf, startNginx } from './nginx.mjs';
import { freePort, waitReady } from './net.mjs';
import { connect } from 'node:net';
import { runToEnd, start, which } from './procs.mjs';
import { startIntrospection } from './introspection-scenario.mjs';
import { startWaf, WAF_JSON_BODY } from './waf-scenario.mjs';
import { ANOMALY_POLICY, auditConfig, quickstartPolicies } from './full-scenario.mjs';

export const SCENARIO_NAMES = [
  'direct',
  'nginx',
  'fast-gateway',
  'node-floor',
  'portcullis-bare',
  'portcullis-core-policies',
  'portcullis-apikey',
  'portcullis-authz',
  'portcullis-jwt',
  'portcullis-bare-jwt-traffic',
  'portcullis-openapi-stream',
  'portcullis-openapi',
  'portcullis-introspection',
  'portcullis-waf',
  'portcullis-waf-unbatched',
  'portcullis-bare-json-4kb',
  'portcullis-waf-json-4kb',
  'portcullis-bare-2-workers',
  'portcullis-ratelimit-memory',
  'portcullis-ratelimit-redis',
  'portcullis-quickstart',
  'portcullis-full',
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

export function portcullisConfig({ port, upstreamPort, workers, policies, storage, state, audit }) {
  return {
    ...(storage ? { storage } : {}),
    ...(state ? { state } : {}),
    ...(audit ? { audit } : {}),
    version: 1,
    server: { listeners: [{ host: '127.0.0.1', port }], workers },
    admin: { enabled: false },
    logging: { level: 'info', accessLog: true, destination: '/dev/null' },
    upstreams: { up: { targets: [{ url: `http://127.0.0.1:${upstreamPort}` }], connections: 64 } },
    routes: [{ name: 'bench', match: { paths: ['/*'] }, forward: { upstream: 'up' }, policies }],
  };
}

export function gatewayMain(ctx) {
  return path.join(ctx.repoRoot, 'dist', 'main.js');
}
const NOT_BUILT = 'dist/main.js does not exist (the gateway entry point is not built yet)';

/** Writes <tmp>/<name>/portcullis.yaml and returns its path. */
function writePortcullisConfig(ctx, port, { name, workers, policies, storage, state, audit }) {
  const dir = path.join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'portcullis.yaml');
  writeFileSync(file, YAML.stringify(portcullisConfig({ port, upstreamPort: ctx.upstreamPort, workers, policies, storage, state, audit })));
  return file;
}

export function startPortcullis(ctx, port, { name, workers, policies, cpus, storage, state, file }) {
  const main = gatewayMain(ctx);
  if (!existsSync(main)) return { error: NOT_BUILT };
  file ??= writePortcullisConfig(ctx, port, { name, workers, policies, storage, state });
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

export const authenticate = (methods) => [{ name: 'authenticate', config: { methods } }];

/** Runs the gateway CLI (`node dist/main.js ...args`) to completion; resolves stdout or throws. */
async function cli(ctx, args) {
  const r = await runToEnd('portcullis-cli', process.execPath, [gatewayMain(ctx), ...args], {
    timeoutMs: 30_000,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (r.timedOut || r.code !== 0) {
    throw new Error(`portcullis ${args.slice(0, 2).join(' ')} ${r.timedOut ? 'timed out' : `exited with ${r.code}`}: ${(r.stderr || r.stdout).trim().slice(-400)}`);
  }
  return r.stdout;
}

/**
 * portcullis-authz (issue 4): api-key, then authorize with three CEL rules and one ownership
 * binding (the x-owner header must be the caller's consumer id). Compared with portcullis-apikey.
 */
export const AUTHZ_POLICY = {
  name: 'authorize',
  config: {
    rules: [
      { name: 'no-internal', effect: 'deny', when: 'request.path.startsWith("/internal")' },
      { name: 'no-anonymous-deletes', effect: 'deny', when: 'request.method == "DELETE" && !("admin" in principal.groups)' },
      { name: 'known-consumers', when: 'principal.method == "api-key" && principal.consumer != "" && request.method in ["GET", "POST", "HEAD"]' },
    ],
    ownership: { bindings: [{ name: 'own-tenant', source: 'header', field: 'x-owner', equals: 'consumer' }] },
  },
};

/**
 * portcullis-apikey: a sqlite store, one consumer and one key created with the CLI. The other rows
 * that need a key pass their own policies (portcullis-authz adds authorize and sends x-owner;
 * portcullis-quickstart and portcullis-full) and, for portcullis-full, an audit section.
 */
async function startApiKey(ctx, port, name = 'portcullis-apikey', { policies = authenticate([{ type: 'api-key' }]), withOwner = false, audit } = {}) {
  if (!existsSync(gatewayMain(ctx))) return { error: NOT_BUILT };
  const storage = { backend: 'sqlite', sqlite: { path: path.join(ctx.tmpDir, `${name}.db`) } };
  const file = writePortcullisConfig(ctx, port, { name, workers: 1, policies, storage, audit });
  try {
    const created = await cli(ctx, ['consumers', 'create', 'bench', '--config', file]);
    const consumerId = /\(([^)]+)\)/.exec(created)?.[1];
    if (withOwner && !consumerId) return { error: `consumers create printed no id: ${created.slice(0, 200)}` };
    const out = await cli(ctx, ['keys', 'create', 'bench', '--config', file]);
    const key = out.split('\n').map((l) => l.trim()).find((l) => l.startsWith('pcl_'));
    if (!key) return { error: `keys create printed no pcl_ key: ${out.slice(0, 200)}` };
    const headers = { 'x-api-key': key, ...(withOwner ? { 'x-owner': consumerId } : {}) };
    return { ...startPortcullis(ctx, port, { name, cpus: ctx.layout.proxy1, file }), headers };
  } catch (err) {
    return { error: `setup failed: ${err.message}` };
  }
}

const b64u = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** portcullis-jwt: an RS256 key pair, a JWKS server, one signed token repeated (warm verified-token cache). */
/**
 * The RS256 key pair and the one token of the JWT rows, made once per bench run so that
 * portcullis-jwt and its same-traffic baseline send byte-identical requests.
 */
function benchJwt(ctx) {
  if (ctx.benchJwt !== undefined) return ctx.benchJwt;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const signingInput = `${b64u({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })}.${b64u({
    iss: 'https://bench.issuer',
    aud: 'https://bench.api',
    sub: 'bench',
    iat: now,
    exp: now + 3 * 3600,
  })}`;
  const token = `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
  ctx.benchJwt = { jwk, headers: { Authorization: `Bearer ${token}` } };
  return ctx.benchJwt;
}

async function startJwt(ctx, port) {
  const name = 'portcullis-jwt';
  if (!existsSync(gatewayMain(ctx))) return { error: NOT_BUILT };
  const dir = path.join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const { jwk, headers } = benchJwt(ctx);
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const jwksPort = await freePort();
  const jwks = start('jwks-server', process.execPath, [path.join(ctx.benchDir, 'lib', 'jwks-server.mjs')], {
    cpus: ctx.layout.load,
    taskset: ctx.taskset,
    env: { ...process.env, PORT: String(jwksPort), JWKS_FILE: jwksFile },
  });
  try {
    const ready = await waitReady(jwksPort, { handle: jwks, deadlineMs: 10_000, path: '/jwks' });
    if (!ready.ok) return { error: `JWKS server did not start: ${ready.reason}; stderr: ${jwks.stderr.slice(-400)}`, helpers: [jwks] };
    const policies = authenticate([
      {
        type: 'jwt',
        config: {
          issuers: [{ issuer: 'https://bench.issuer', audiences: ['https://bench.api'], jwksUri: `http://127.0.0.1:${jwksPort}/jwks` }],
        },
      },
    ]);
    const started = startPortcullis(ctx, port, { name, workers: 1, policies, cpus: ctx.layout.proxy1 });
    return { ...started, headers, helpers: [jwks] };
  } catch (err) {
    return { error: `setup failed: ${err.message}`, helpers: [jwks] };
  }
}

/** The 1 KB JSON body of the openapi rows, and the schema that accepts it. */
export const OPENAPI_BODY = JSON.stringify({
  name: 'a'.repeat(100),
  quantity: 12,
  tags: Array.from({ length: 10 }, (_, i) => `tag-number-${i}`),
  owner: { email: 'owner@example.com', name: 'Owner Name' },
  notes: 'n'.repeat(560),
});
export const OPENAPI_SPEC = {
  openapi: '3.0.3',
  info: { title: 'bench', version: '1' },
  paths: {
    '/': {
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
        // The upstream's {"ok":true} is declared, so the response is validated (and filtered) too.
        responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { ok: { type: 'boolean' } } } } } } },
      },
    },
  },
  components: {
    schemas: {
      Item: {
        type: 'object',
        required: ['name', 'quantity'],
        properties: {
          name: { type: 'string', maxLength: 200 },
          quantity: { type: 'integer', minimum: 1, maximum: 1000 },
          tags: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 40 } },
          owner: { type: 'object', properties: { email: { type: 'string', format: 'email' }, name: { type: 'string' } } },
          notes: { type: 'string', maxLength: 2000 },
        },
      },
    },
  },
};

/** portcullis-openapi: the same POST as portcullis-openapi-stream, its body validated by the openapi policy. */
function startOpenApi(ctx, port) {
  const dir = path.join(ctx.tmpDir, 'portcullis-openapi');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(OPENAPI_SPEC));
  const policies = [{ name: 'openapi', config: { spec: 'openapi.json' } }];
  return { ...startPortcullis(ctx, port, { name: 'portcullis-openapi', workers: 1, policies, cpus: ctx.layout.proxy1 }), body: OPENAPI_BODY };
}

/**
 * The rate-limit scenarios: two limits per request (a per-second GCRA and a per-hour sliding window,
 * both on the client IP) set so high that nothing is refused: what is measured is the price of the
 * decision on every admitted request, headers included.
 */
export const RATE_LIMIT_POLICIES = [
  {
    name: 'rate-limit',
    config: {
      limits: [
        { name: 'per-second', limit: 1_000_000_000, window: '1s', key: ['ip'] },
        { name: 'per-hour', limit: 1_000_000_000, window: '1h', algorithm: 'sliding-window', key: ['ip'] },
      ],
    },
  },
];

/** Resolves once a Redis server answers PING on the port, or rejects after the deadline. */
async function redisReady(port, deadlineMs = 10_000) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const ok = await new Promise((done) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(500, () => (socket.destroy(), done(false)));
      socket.on('error', () => done(false));
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (d) => (socket.destroy(), done(d.toString().startsWith('+PONG'))));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not answer PING');
}

/** portcullis-ratelimit-redis: a private redis-server on the load side's CPU, so the bench never loads a shared one. */
async function startRateLimitRedis(ctx, port) {
  const name = 'portcullis-ratelimit-redis';
  const redisServer = which('redis-server');
  if (!redisServer) return { error: 'redis-server not installed' };
  const redisPort = await freePort();
  const redis = start('redis-server', redisServer, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    cpus: ctx.layout.load,
    taskset: ctx.taskset,
  });
  try {
    await redisReady(redisPort);
  } catch (err) {
    return { error: `${err.message}; stderr: ${redis.stderr.slice(-400)}`, helpers: [redis] };
  }
  const state = { backend: 'redis', redis: { url: `redis://127.0.0.1:${redisPort}`, keyPrefix: 'bench:' } };
  return { ...startPortcullis(ctx, port, { name, workers: 1, policies: RATE_LIMIT_POLICIES, state, cpus: ctx.layout.proxy1 }), helpers: [redis] };
}

/**
 * Each scenario: start(ctx, port) returns (or resolves) { handle, readyMs } for the process to
 * measure, or { error }; optionally `headers` (sent on every request of this scenario, on top of
 * BENCH_HEADERS) and `helpers` (processes stopped with the scenario). `authCheck`: the sanity check
 * also expects 401 without those headers. `direct` starts nothing: the load goes to the upstream and its CPU is reported.
 */
/** A comparison proxy from bench/lib (PORT and UPSTREAM in its environment), pinned like one gateway worker. */
function startNodeProxy(c, port, name, script) {
  return {
    handle: start(name, process.execPath, [path.join(c.benchDir, 'lib', script)], {
      cpus: c.layout.proxy1,
      taskset: c.taskset,
      cwd: c.repoRoot,
      env: { ...process.env, NODE_ENV: 'production', PORT: String(port), UPSTREAM: `http://127.0.0.1:${c.upstreamPort}` },
    }),
    readyMs: 15_000,
  };
}

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
    'fast-gateway': { start: (c, port) => startNodeProxy(c, port, 'fast-gateway', 'fast-gateway-server.cjs') },
    // node:http + undici Pool.dispatch and nothing else: what any Node proxy pays (node-floor-server.mjs).
    'node-floor': { start: (c, port) => startNodeProxy(c, port, 'node-floor', 'node-floor-server.mjs') },
    'portcullis-bare': {
      start: (c, port) => startPortcullis(c, port, { name: 'portcullis-bare', workers: 1, policies: [], cpus: L.proxy1 }),
    },
    // The bare route fed portcullis-jwt's exact requests (an ~800-byte Bearer token it does not
    // check): what the JWT policy adds, without what carrying the token costs any proxy.
    'portcullis-bare-jwt-traffic': {
      start: (c, port) => ({ ...startPortcullis(c, port, { name: 'portcullis-bare-jwt-traffic', workers: 1, policies: [], cpus: L.proxy1 }), headers: benchJwt(c).headers }),
    },
    'portcullis-core-policies': {
      policiesCheck: true,
      start: (c, port) =>
        startPortcullis(c, port, { name: 'portcullis-core-policies', workers: 1, policies: CORE_POLICIES, cpus: L.proxy1 }),
    },
    'portcullis-apikey': { authCheck: true, start: (c, port) => startApiKey(c, port) },
    'portcullis-authz': {
      authCheck: true,
      start: (c, port) => startApiKey(c, port, 'portcullis-authz', { policies: [...authenticate([{ type: 'api-key' }]), AUTHZ_POLICY], withOwner: true }),
    },
    'portcullis-jwt': { authCheck: true, start: startJwt },
    'portcullis-openapi-stream': {
      start: (c, port) => ({
        ...startPortcullis(c, port, { name: 'portcullis-openapi-stream', workers: 1, policies: [], cpus: L.proxy1 }),
        body: OPENAPI_BODY,
      }),
    },
    'portcullis-openapi': { start: startOpenApi },
    'portcullis-introspection': { authCheck: true, start: startIntrospection },
    'portcullis-waf': { start: (c, port) => startWaf(c, port, startPortcullis) },
    'portcullis-waf-unbatched': { start: (c, port) => startWaf(c, port, startPortcullis, { name: 'portcullis-waf-unbatched', batch: false }) },
    // The issue's 4 KB JSON body POSTed to the bare route, and to the waf route (which inspects it).
    'portcullis-bare-json-4kb': {
      start: (c, port) => ({ ...startPortcullis(c, port, { name: 'portcullis-bare-json-4kb', workers: 1, policies: [], cpus: L.proxy1 }), body: WAF_JSON_BODY }),
    },
    'portcullis-waf-json-4kb': { start: (c, port) => startWaf(c, port, startPortcullis, { name: 'portcullis-waf-json-4kb', body: WAF_JSON_BODY }) },
    'portcullis-bare-2-workers': {
      start: (c, port) =>
        startPortcullis(c, port, { name: 'portcullis-bare-2-workers', workers: 2, policies: [], cpus: L.proxy2 }),
    },
    'portcullis-ratelimit-memory': {
      start: (c, port) => startPortcullis(c, port, { name: 'portcullis-ratelimit-memory', workers: 1, policies: RATE_LIMIT_POLICIES, cpus: L.proxy1 }),
    },
    'portcullis-ratelimit-redis': { start: startRateLimitRedis },
    'portcullis-quickstart': {
      authCheck: true,
      start: (c, port) => startApiKey(c, port, 'portcullis-quickstart', { policies: quickstartPolicies(CORE_POLICIES) }),
    },
    'portcullis-full': {
      authCheck: true,
      start: (c, port) =>
        startApiKey(c, port, 'portcullis-full', { policies: [...quickstartPolicies(CORE_POLICIES), ANOMALY_POLICY], audit: auditConfig(c, 'portcullis-full') }),
    },
    [REFERENCE_NAME]: {
      reference: true,
      start: (c, port) => startPortcullis(c, port, { name: REFERENCE_NAME, workers: 1, policies: [], cpus: L.proxy2 }),
    },
  };
}

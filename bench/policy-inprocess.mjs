#!/usr/bin/env node
// In-process cost of a policy's request hook (build first): microseconds per call of `handle()` on a
// real RequestContext, for the authentication and authorization rows of `npm run bench`. This is
// where a change to a policy shows up without the noise of the load harness (docs/benchmarks.md).
// `node bench/policy-inprocess.mjs [--iterations N] [--only apikey,authz,...]`
import { mkdtempSync, rmSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AUTHZ_POLICY, RATE_LIMIT_POLICIES } from './lib/scenarios.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(pathToFileURL(path.join(repoRoot, 'dist', p)).href);
const { RequestContext } = await load('core/context.js');
const { GatewayMetrics } = await load('observability/metrics.js');
const { silentLogger } = await load('observability/logger.js');
const { Backends } = await load('backends.js');
const { generateApiKey, hashApiKey } = await load('auth/api-key/index.js');
const { configValidator } = await load('config/ajv.js');
const { deepFreeze } = await load('config/freeze.js');
const { createRegistry } = await load('policies/registry.js');

const args = process.argv.slice(2);
const opt = (n) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const iterations = Number(opt('--iterations') ?? 200_000);
const only = opt('--only')?.split(',');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'portcullis-inproc-'));
const logger = silentLogger();
const backends = new Backends({ storage: { backend: 'sqlite', sqlite: { path: path.join(tmp, 'bench.db') } }, state: { backend: 'memory', memory: { maxEntries: 100_000 } } }, tmp, logger);
const store = await backends.store();
const consumer = await store.consumers.create({ name: 'bench', tags: [], plan: null });
const { key, keyId } = generateApiKey();
await store.credentials.create({ consumerId: consumer.id, type: 'api-key', lookupId: keyId, secretHash: hashApiKey(key), label: '', scopes: ['read'], expiresAt: null, metadata: {} });

// One RS256 token, always the same: the warm verified-token cache path of the portcullis-jwt row.
const { generateKeyPair, exportSPKI, SignJWT } = await import('jose');
const { publicKey, privateKey } = await generateKeyPair('RS256');
const jwtIssuer = { issuer: 'https://bench.issuer', audiences: ['https://bench.api'], staticKeys: [await exportSPKI(publicKey)] };
const token = await new SignJWT({ scope: 'read' })
  .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
  .setIssuer(jwtIssuer.issuer)
  .setAudience(jwtIssuer.audiences[0])
  .setSubject('bench')
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(privateKey);

const deps = { logger, metrics: new GatewayMetrics({ defaultMetrics: false }), now: () => Date.now(), routeName: 'bench', configDir: tmp, store: backends.store, state: backends.state };
const registry = createRegistry();
function policy(name, raw) {
  const descriptor = registry.get(name);
  const config = structuredClone(raw);
  const validate = configValidator(descriptor.schema);
  if (!validate(config)) throw new Error(`${name}: ${JSON.stringify(validate.errors)}`);
  return descriptor.create(deepFreeze(config), deps);
}

function context(headers) {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/';
  req.headers = { ...headers };
  req.rawHeaders = Object.entries(headers).flat();
  const ctx = new RequestContext(req, new ServerResponse(req), Date.now());
  ctx.path = '/';
  ctx.query = '';
  ctx.host = 'bench';
  ctx.requestId = 'bench';
  ctx.clientIp = '127.0.0.1';
  ctx.remoteAddress = ctx.clientIp;
  ctx.protocol = 'http';
  return ctx;
}

const scenarios = {
  apikey: { policies: [['authenticate', { methods: [{ type: 'api-key' }] }]], headers: { 'x-api-key': key } },
  'apikey-no-lockout': { policies: [['authenticate', { methods: [{ type: 'api-key' }], lockout: { enabled: false } }]], headers: { 'x-api-key': key } },
  'jwt-warm': { policies: [['authenticate', { methods: [{ type: 'jwt', config: { issuers: [jwtIssuer] } }] }]], headers: { authorization: `Bearer ${token}` } },
  authz: { policies: [['authenticate', { methods: [{ type: 'api-key' }] }], [AUTHZ_POLICY.name, AUTHZ_POLICY.config]], headers: { 'x-api-key': key, 'x-owner': consumer.id } },
  'ratelimit-memory': {
    policies: RATE_LIMIT_POLICIES.map((p) => [p.name, p.config]),
    headers: {},
  },
};

async function measure(name, { policies, headers }) {
  const instances = policies.map(([n, c]) => policy(n, c));
  const once = async () => {
    const ctx = context(headers);
    for (const p of instances) {
      const r = p.handle?.(ctx);
      if (r instanceof Promise) await r;
    }
  };
  const baseline = async () => { context(headers); };
  for (let i = 0; i < 20_000; i++) { await once(); await baseline(); }
  const time = async (fn) => { const t = process.cpuUsage(); for (let i = 0; i < iterations; i++) await fn(); const d = process.cpuUsage(t); return (d.user + d.system) / iterations; };
  const runs = [];
  for (let r = 0; r < 5; r++) runs.push((await time(once)) - (await time(baseline)));
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(20)} ${runs[2].toFixed(2).padStart(6)} us/request (median of 5; min ${runs[0].toFixed(2)}, max ${runs[4].toFixed(2)})`);
  await Promise.all(instances.map((p) => p.close?.()));
}

for (const [name, s] of Object.entries(scenarios)) if (only === undefined || only.includes(name)) await measure(name, s);
await backends.close();
rmSync(tmp, { recursive: true, force: true });

// CPU per request of the audit log and anomaly detection, in process: what portcullis-full adds to
// portcullis-quickstart, without the noise of a load test. The route of portcullis-full (its
// policies, audit section, defaults) is compiled as the gateway compiles it; then, per allowed
// request, the anomaly-detection policy's `handle` and `log` hooks and `AuditLog.observe` run on a
// request context as finishRequest leaves it, for one client (as in the load test) and for 10,000
// client IPs in turn. Denied requests (which do write an audit record) are measured too, hash chain
// and file write included.
// Needs dist/ (npm run build). Usage: node bench/audit-anomaly.mjs [iterations]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { openAuditLog } from '../dist/audit/open.js';
import { Backends } from '../dist/backends.js';
import { loadConfigText } from '../dist/config/load.js';
import { RequestContext } from '../dist/core/context.js';
import { GatewayError } from '../dist/errors/index.js';
import { GatewayMetrics } from '../dist/observability/metrics.js';
import { silentLogger } from '../dist/observability/logger.js';
import { GatewayRuntime } from '../dist/proxy/runtime.js';
import { ANOMALY_POLICY, auditConfig, quickstartPolicies } from './lib/full-scenario.mjs';
import { CORE_POLICIES, portcullisConfig } from './lib/scenarios.mjs';

const N = Number(process.argv[2] ?? 200_000);
const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-audit-anomaly-'));
const config = portcullisConfig({
  port: 0,
  upstreamPort: 1,
  workers: 1,
  policies: [...quickstartPolicies(CORE_POLICIES), ANOMALY_POLICY],
  storage: { backend: 'sqlite', sqlite: { path: path.join(tmpDir, 'bench.db') } },
  audit: auditConfig({ tmpDir }, 'audit'),
});
const file = path.join(tmpDir, 'portcullis.yaml');
writeFileSync(file, YAML.stringify(config));
const loaded = loadConfigText(YAML.stringify(config), file);
const logger = silentLogger();
const backends = new Backends(loaded.config, loaded.dir, logger);
const runtime = new GatewayRuntime(loaded, { logger, accessLog: undefined, backends, metrics: new GatewayMetrics({ defaultMetrics: false }), now: Date.now });
const route = runtime.routes[0];
const anomaly = route.pipeline.steps.find((s) => s.name === 'anomaly-detection').instance;
const audit = openAuditLog(loaded.config.audit, loaded.dir, { store: backends.store, logger, now: Date.now });

/** A request as finishRequest sees it: routed, authenticated, answered. */
function finished(status, denial, ip = '127.0.0.1') {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  const ctx = new RequestContext(req, new ServerResponse(req), 0);
  ctx.clientIp = ctx.remoteAddress = ip;
  ctx.requestId = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';
  ctx.route = route;
  ctx.path = '/';
  ctx.principal = denial ? undefined : { consumerId: 'cons_bench', method: 'api-key', scopes: [] };
  ctx.status = status;
  if (denial) {
    ctx.decision = { outcome: 'deny', policy: 'authenticate', code: denial.code, reason: denial.reason };
    ctx.error = denial;
  }
  return ctx;
}
const allowed = finished(200);
const denied = finished(401, new GatewayError('GW_AUTHN_REQUIRED', { reason: 'no credential' }));
const CLIENTS = 10_000;
const many = Array.from({ length: CLIENTS }, (_, i) => finished(200, undefined, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));

async function measure(label, fn, n = N) {
  await fn(Math.min(n, 2000)); // warm-up (JIT)
  const cpu = process.cpuUsage();
  await fn(n);
  const used = process.cpuUsage(cpu);
  const us = (used.user + used.system) / n;
  console.log(`${label.padEnd(58)} ${us.toFixed(2).padStart(7)} us CPU/request`);
  return us;
}

const anomalyHooks = (ctx) => {
  anomaly.handle(ctx);
  anomaly.log(ctx);
};
const a = await measure('anomaly-detection handle + log, allowed request', (n) => {
  for (let i = 0; i < n; i++) anomalyHooks(allowed);
});
await measure(`anomaly-detection, ${CLIENTS.toLocaleString('en-US')} client IPs in turn`, (n) => {
  for (let i = 0; i < n; i++) anomalyHooks(many[i % CLIENTS]);
});
const b = await measure('audit observe, allowed request (nothing recorded)', (n) => {
  for (let i = 0; i < n; i++) audit.observe(allowed);
});
const both = await measure('both, allowed request (what portcullis-full adds)', (n) => {
  for (let i = 0; i < n; i++) {
    anomalyHooks(allowed);
    audit.observe(allowed);
  }
});
// A 401 burst would get the client banned by anomaly detection: its counters are not fed here.
await measure('audit, denied request (record + hash chain + file write)', async (n) => {
  for (let i = 0; i < n; i++) audit.observe(denied);
  await audit.flush();
}, Math.min(N, 20_000));
console.log(`\nsum of the parts ${(a + b).toFixed(2)} us, together ${both.toFixed(2)} us (target: at most 10 us per request)`);
await audit.close();
await runtime.close();
await backends.close();
rmSync(tmpDir, { recursive: true, force: true });

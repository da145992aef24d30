// In-process costs of the openapi policy (issue 6). Run after `npm run build`.
// Usage: node bench/openapi.mjs [requests] [--rounds N]
//
// 1. Compile: a generated description of 1,000 operations (500 paths x GET + POST) compiled by the
//    policy, and the same description as generated routes (a route with `openapi:`: config load,
//    1,000 routes, every policy compiled, as `portcullis validate` does). Target < 3 s each.
// 2. Lookup: the policy's radix tree and the gateway router over the 1,000 generated routes, first
//    vs middle vs last path, and the same lookup in a 10-operation spec: constant time means the
//    figures do not grow with the position or with the size of the spec.
// 3. Request cost: CPU added per request by a 1 KB JSON body validated (request half) and the
//    upstream's {"ok":true} validated (response half), over reading the same body as a stream,
//    the portcullis-openapi bench row without the network. Median of interleaved rounds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { compileCheck } from '../dist/config/compile-check.js';
import { loadConfigText } from '../dist/config/load.js';
import { HeaderList } from '../dist/core/header-list.js';
import { RequestContext } from '../dist/core/context.js';
import { GatewayMetrics } from '../dist/observability/metrics.js';
import { compileSpec } from '../dist/policies/openapi/compile.js';
import { openApiPolicy } from '../dist/policies/openapi/index.js';
import { loadSpec } from '../dist/policies/openapi/spec-loader.js';
import { Router } from '../dist/proxy/router.js';
import { OPENAPI_BODY, OPENAPI_SPEC } from './lib/scenarios.mjs';

const args = process.argv.slice(2);
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 20000);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] || 5);
const dir = mkdtempSync(path.join(os.tmpdir(), 'pcl-openapi-bench-'));
const cpuMs = (since) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1000; };
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** `paths` paths x (GET with path, query and header parameters + POST with a JSON body). */
function generatedSpec(paths) {
  const schemas = {};
  const out = {};
  for (let i = 0; i < paths; i++) {
    schemas[`Item${i}`] = {
      type: 'object',
      required: ['name', 'quantity'],
      properties: {
        id: { type: 'integer', readOnly: true },
        name: { type: 'string', maxLength: 200 },
        quantity: { type: 'integer', minimum: 1, maximum: 1000 },
        tags: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 40 } },
        owner: { $ref: '#/components/schemas/Owner' },
        notes: { type: 'string', maxLength: 2000 },
      },
    };
    out[`/resource${i}/{id}/items`] = {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
      get: {
        operationId: `list${i}`,
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } },
          { name: 'x-trace', in: 'header', schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'array', items: { $ref: `#/components/schemas/Item${i}` } } } } } },
      },
      post: {
        operationId: `create${i}`,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/Item${i}` } } } },
        responses: { 201: { description: 'created', content: { 'application/json': { schema: { $ref: `#/components/schemas/Item${i}` } } } } },
      },
    };
  }
  schemas.Owner = { type: 'object', properties: { email: { type: 'string', format: 'email' }, name: { type: 'string' } } };
  return { openapi: '3.0.3', info: { title: 'bench', version: '1' }, paths: out, components: { schemas } };
}
writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(generatedSpec(500)));
writeFileSync(path.join(dir, 'small.json'), JSON.stringify(generatedSpec(5)));
// The portcullis-openapi row's one-operation description (bench/lib/scenarios.mjs).
writeFileSync(path.join(dir, 'row.json'), JSON.stringify(OPENAPI_SPEC));

const deps = {
  logger: pino({ level: 'silent' }),
  metrics: new GatewayMetrics({ defaultMetrics: false }),
  now: Date.now,
  routeName: 'bench',
  configDir: dir,
  store: async () => { throw new Error('unused'); },
  state: async () => { throw new Error('unused'); },
};
const config = (spec) => ({
  spec, basePath: '', unknownQueryParameters: 'reject', unknownBodyProperties: 'allow',
  json: { maxDepth: 64, maxKeys: 1000, maxStringLength: 65536, maxArrayLength: 10000, maxBytes: '1mb' },
  forms: { maxBytes: '10mb', maxFields: 1000, maxFiles: 10, maxFieldBytes: '64kb', maxFileBytes: '10mb' },
  responses: { validate: true, invalid: 'block', undeclaredResponses: 'report', undeclaredProperties: 'remove', maxBytes: '1mb', sensitiveData: { kinds: [], action: 'mask' }, hideUpstreamErrors: true },
});

// 1. Compile.
let t0 = performance.now();
let cpu = process.cpuUsage();
const policy = openApiPolicy.create(config('spec.json'), deps);
console.log(`compile: policy, 1,000 operations (500 request + 1,000 response schemas): ${cpuMs(cpu).toFixed(0)} ms CPU, ${(performance.now() - t0).toFixed(0)} ms wall (target < 3000 ms)`);

const gatewayYaml = `version: 1
upstreams: { up: { targets: [{ url: "http://127.0.0.1:1" }] } }
routes:
  - name: api
    openapi: { spec: spec.json }
    forward: { upstream: up }
`;
t0 = performance.now();
cpu = process.cpuUsage();
const loaded = loadConfigText(gatewayYaml, path.join(dir, 'gateway.yaml'));
await compileCheck(loaded);
console.log(`compile: generated routes, config load + 1,000 routes + their policies: ${cpuMs(cpu).toFixed(0)} ms CPU, ${(performance.now() - t0).toFixed(0)} ms wall (target < 3000 ms; ${loaded.config.routes.length} routes)`);

// 2. Lookup.
const big = compileSpec(loadSpec(path.join(dir, 'spec.json')), { basePath: '', unknownProperties: 'allow', validateResponses: false });
const small = compileSpec(loadSpec(path.join(dir, 'small.json')), { basePath: '', unknownProperties: 'allow', validateResponses: false });
const router = new Router(loaded.config.routes, loaded.config.routes);
function lookupNs(find, p) {
  const M = 200_000;
  for (let i = 0; i < 20_000; i++) find(p);
  const start = process.hrtime.bigint();
  for (let i = 0; i < M; i++) find(p);
  return Number(process.hrtime.bigint() - start) / M;
}
const positions = [['first', 0], ['middle', 250], ['last', 499]];
const policyLookup = positions.map(([, i]) => lookupNs((p) => big.router.find('GET', p), `/resource${i}/7/items`));
const smallLookup = lookupNs((p) => small.router.find('GET', p), '/resource4/7/items');
const routeLookup = positions.map(([, i]) => lookupNs((p) => router.lookup('POST', p, 'h'), `/resource${i}/7/items`));
const fmt = (xs) => xs.map((x, i) => `${positions[i][0]} ${x.toFixed(0)}`).join(', ');
console.log(`lookup: policy radix tree, 1,000 operations: ${fmt(policyLookup)} ns; 10 operations: ${smallLookup.toFixed(0)} ns`);
console.log(`lookup: gateway router, 1,000 generated routes: ${fmt(routeLookup)} ns`);

// 3. Request cost, on the bench row's one-operation description and 1 KB body.
const rowPolicy = openApiPolicy.create(config('row.json'), deps);
const bodyBytes = Buffer.from(OPENAPI_BODY);
const upstreamBody = Buffer.from('{"ok":true}');
const socket = new Socket();
const res = new ServerResponse(new IncomingMessage(socket));
function context() {
  // A plain Readable carrying the body: an IncomingMessage on a fake socket adds close-time errors the gateway never sees.
  const req = new Readable({ read() {} });
  Object.assign(req, { method: 'POST', url: '/', socket, headers: { 'content-type': 'application/json', 'content-length': String(bodyBytes.length) } });
  req.push(bodyBytes);
  req.push(null);
  const ctx = new RequestContext(req, res, 0);
  ctx.path = '/';
  ctx.query = '';
  return ctx;
}
// The forwarder hands an unread body to undici, which reads it with 'data' listeners.
const stream = (ctx) => new Promise((done) => { ctx.req.on('data', () => {}); ctx.req.on('end', done); });
const requestHalf = (ctx) => rowPolicy.handle(ctx);
const bothHalves = async (ctx) => {
  await rowPolicy.handle(ctx);
  const head = new HeaderList(['content-type', 'application/json', 'content-length', '11']);
  if (rowPolicy.wantsResponseBody(ctx, head, 200) !== undefined) await rowPolicy.onResponseBody(ctx, upstreamBody, head, 200);
};
async function usPerRequest(run) {
  for (let i = 0; i < 2000; i++) await run(context());
  const contexts = Array.from({ length: N }, context); // built outside the measured region
  const since = process.cpuUsage();
  for (const ctx of contexts) await run(ctx);
  return (cpuMs(since) * 1000) / N;
}
const results = { stream: [], request: [], both: [] };
for (let r = 0; r < ROUNDS; r++) {
  results.stream.push(await usPerRequest(stream));
  results.request.push(await usPerRequest(requestHalf));
  results.both.push(await usPerRequest(bothHalves));
}
const [s, q, b] = [median(results.stream), median(results.request), median(results.both)];
console.log(`request: stream the 1 KB body ${s.toFixed(1)} us; openapi request half ${q.toFixed(1)} us; request + response halves ${b.toFixed(1)} us (median of ${ROUNDS} rounds of ${N})`);
console.log(`request: added CPU per request ${(b - s).toFixed(1)} us (request half alone ${(q - s).toFixed(1)} us; target <= 25 us)`);
rmSync(dir, { recursive: true, force: true });

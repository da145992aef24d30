// OpenAPI policy costs, in process: (1) compiling a generated spec of 1,000 operations (target
// < 3 s), (2) CPU per request that the policy adds for a 1 KB JSON body (read, hostile-JSON scan,
// parse, schema validation; target <= 25 us) against reading the same body as the forwarder's
// stream would, and (3) operation lookup for the first and the last of the 1,000 paths (constant time).
// Needs dist/ (npm run build). Usage: node bench/openapi.mjs [requests]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { RequestContext } from '../dist/core/context.js';
import { GatewayMetrics } from '../dist/observability/metrics.js';
import { openApiPolicy } from '../dist/policies/openapi/index.js';

const N = Number(process.argv[2] ?? 20000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'pcl-openapi-bench-'));

/** 500 paths x (GET with path, query and header parameters + POST with a JSON body) = 1,000 operations. */
function generatedSpec() {
  const schemas = {};
  const paths = {};
  for (let i = 0; i < 500; i++) {
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
    paths[`/resource${i}/{id}/items`] = {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
      get: {
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } },
          { name: 'x-trace', in: 'header', schema: { type: 'string' } },
        ],
        responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'array', items: { $ref: `#/components/schemas/Item${i}` } } } } } },
      },
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/Item${i}` } } } },
        responses: { 201: { description: 'created', content: { 'application/json': { schema: { $ref: `#/components/schemas/Item${i}` } } } } },
      },
    };
  }
  schemas.Owner = { type: 'object', properties: { email: { type: 'string', format: 'email' }, name: { type: 'string' } } };
  return { openapi: '3.0.3', info: { title: 'bench', version: '1' }, paths, components: { schemas } };
}
writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(generatedSpec()));

const deps = {
  logger: pino({ level: 'silent' }),
  metrics: new GatewayMetrics({ defaultMetrics: false }),
  now: Date.now,
  routeName: 'bench',
  configDir: dir,
  store: async () => { throw new Error('unused'); },
  state: async () => { throw new Error('unused'); },
};
const config = {
  spec: 'spec.json', basePath: '', unknownQueryParameters: 'reject', unknownBodyProperties: 'allow',
  json: { maxDepth: 64, maxKeys: 1000, maxStringLength: 65536, maxArrayLength: 10000, maxBytes: '1mb' },
  forms: { maxBytes: '10mb', maxFields: 1000, maxFiles: 10, maxFieldBytes: '64kb', maxFileBytes: '10mb' },
  responses: { validate: true, invalid: 'block', undeclaredProperties: 'remove', maxBytes: '1mb', sensitiveData: { kinds: [], action: 'mask' }, hideUpstreamErrors: true },
};

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const policy = openApiPolicy.create(config, deps);
const cpuUsed = process.cpuUsage(cpu0);
const compileMs = performance.now() - t0;
const compileCpuMs = (cpuUsed.user + cpuUsed.system) / 1000;
console.log(`compile 1,000 operations (500 paths, 500 request + 1,000 response schemas): ${compileCpuMs.toFixed(0)} ms CPU, ${compileMs.toFixed(0)} ms wall (target < 3000 ms)`);

// A 1 KB JSON body, valid for POST /resource499/{id}/items.
const body = JSON.stringify({
  name: 'a'.repeat(100), quantity: 12, tags: Array.from({ length: 10 }, (_, i) => `tag-number-${i}`),
  owner: { email: 'owner@example.com', name: 'Owner Name' }, notes: 'n'.repeat(560),
});
const bodyBytes = Buffer.from(body);

function context(method, url, withBody) {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = withBody ? { 'content-type': 'application/json', 'content-length': String(bodyBytes.length) } : { 'x-trace': 'abc' };
  if (withBody) { req.push(bodyBytes); req.push(null); }
  const ctx = new RequestContext(req, new ServerResponse(req), 0);
  const q = url.indexOf('?');
  ctx.path = q === -1 ? url : url.slice(0, q);
  ctx.query = q === -1 ? '' : url.slice(q + 1);
  return ctx;
}

async function measure(label, make, run) {
  const warm = Array.from({ length: 2000 }, make);
  for (const ctx of warm) await run(ctx);
  const contexts = Array.from({ length: N }, make); // built outside the measured region
  const cpu = process.cpuUsage();
  for (const ctx of contexts) await run(ctx);
  const used = process.cpuUsage(cpu);
  const us = (used.user + used.system) / N;
  console.log(`${label.padEnd(58)} cpu ${us.toFixed(1).padStart(6)} us/request`);
  return us;
}

const drain = async (ctx) => { for await (const _ of ctx.req) { /* the forwarder streams these chunks */ } };
const streamed = await measure('baseline: read the 1 KB body as a stream', () => context('POST', '/resource499/7/items', true), drain);
const validated = await measure('openapi: POST 1 KB JSON body validated (last path)', () => context('POST', '/resource499/7/items', true), (ctx) => policy.handle(ctx));
console.log(`added CPU per request: ${(validated - streamed).toFixed(1)} us (target <= 25 us)`);
const first = await measure('openapi: GET, path + query + header params (first path)', () => context('GET', '/resource0/7/items?limit=10', false), (ctx) => policy.handle(ctx));
const last = await measure('openapi: GET, path + query + header params (last path)', () => context('GET', '/resource499/7/items?limit=10', false), (ctx) => policy.handle(ctx));
console.log(`lookup first vs last of 500 paths: ${first.toFixed(1)} vs ${last.toFixed(1)} us (radix tree: no growth with position)`);
rmSync(dir, { recursive: true, force: true });

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import YAML from 'yaml';
import { generateApiKey, hashApiKey } from '../../src/auth/api-key/format.js';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';
import { startStoreGateway, type StoreGateway } from '../helpers/store-gateway.js';

describe('Prometheus metrics', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    const yaml =
      basicConfig(`    policies:
      - name: ip-restriction
        config: { deny: ["127.0.0.2/32"] }
      - name: allowed-methods
        mode: monitor
        config: { methods: [GET] }
`) +
      `  - name: dead
    match: { paths: ["/dead/*"] }
    forward: { upstream: dead }
`;
    gw = await startGateway(
      yaml.replace('upstreams:\n', 'upstreams:\n  dead: { targets: [{ url: "http://127.0.0.1:1" }], retries: 0 }\n'),
      { upstreamUrl: upstream.url },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const text = () => gw.gateway.metrics.registry.metrics();

  it('counts requests and observes latency by route, method and status', async () => {
    for (let i = 0; i < 3; i++) await (await request(`${gw.url}/a`)).body.dump();
    await (await request(`${gw.url}/a`, { method: 'POST', body: 'x' })).body.dump();
    const metrics = await text();
    expect(metrics).toContain('portcullis_requests_total{route="all",method="GET",status="200"} 3');
    expect(metrics).toContain('portcullis_request_duration_seconds_count{route="all",status="200"} 4');
  });

  it('counts monitor-mode would-be denials by route and policy, and enforced denials as deny', async () => {
    await (await request(`${gw.url}/a`, { method: 'DELETE' })).body.dump();
    expect(await text()).toMatch(/portcullis_policy_decisions_total\{route="all",policy="allowed-methods",decision="monitor"\} [1-9]/);
    // ip-restriction denies 127.0.0.2: a connection from that loopback address is refused.
    const from2 = new Agent({ localAddress: '127.0.0.2' });
    const denied = await request(`${gw.url}/a`, { dispatcher: from2 });
    await denied.body.dump();
    await from2.close();
    expect(denied.statusCode).toBe(403);
    expect(await text()).toContain('portcullis_policy_decisions_total{route="all",policy="ip-restriction",decision="deny"} 1');
  });

  it('counts upstream errors by upstream and code, and the 502 by route', async () => {
    const res = await request(`${gw.url}/dead/x`);
    expect(res.statusCode).toBe(502);
    await res.body.dump();
    const metrics = await text();
    expect(metrics).toContain('portcullis_upstream_errors_total{upstream="dead",code="ECONNREFUSED"} 1');
    expect(metrics).toContain('portcullis_requests_total{route="dead",method="GET",status="502"} 1');
  });
});

/**
 * Per-consumer metrics with bounded cardinality: with `maxConsumerLabels: 2`, the first two
 * consumers seen keep their own label and every later one is counted as "__other__", however many
 * consumers call (the attack: a tenant or an attacker creating consumers to blow up the series).
 */
describe('per-consumer metrics', () => {
  let env: StoreGateway;
  const consumers: { id: string; key: string }[] = [];

  beforeAll(async () => {
    env = await startStoreGateway(
      'pcl-metrics-',
      async (store) => {
        for (let i = 0; i < 6; i++) {
          const consumer = await store.consumers.create({ name: `tenant-${i}` });
          const generated = generateApiKey();
          await store.credentials.create({ consumerId: consumer.id, type: 'api-key', lookupId: generated.keyId, secretHash: hashApiKey(generated.key), scopes: [] });
          consumers.push({ id: consumer.id, key: generated.key });
        }
      },
      `  - name: keys
    match: { paths: ["/orders/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: api-key }] }
`,
      (req, res) => {
        res.writeHead(req.url!.endsWith('/missing') ? 404 : 200, { 'content-type': 'application/json' });
        res.end('{}');
      },
      'metrics: { maxConsumerLabels: 2 }',
    );
  });
  afterAll(async () => {
    await env?.close();
  });

  const call = async (path: string, key?: string) => {
    const res = await request(`${env.gw.url}${path}`, { headers: key === undefined ? {} : { 'x-api-key': key } });
    await res.body.dump();
    return res.statusCode;
  };

  it('labels the first consumers by id and counts the rest, and only the rest, as __other__', async () => {
    const [a, b, ...later] = consumers;
    expect(await call('/orders/1', a!.key)).toBe(200);
    expect(await call('/orders/1', a!.key)).toBe(200);
    expect(await call('/orders/missing', a!.key)).toBe(404);
    expect(await call('/orders/1', b!.key)).toBe(200);
    for (const c of later) expect(await call('/orders/1', c.key)).toBe(200);
    // Anonymous and rejected requests have no consumer: not counted here (portcullis_requests_total has them).
    expect(await call('/orders/1')).toBe(401);
    expect(await call('/orders/1', generateApiKey().key)).toBe(401);

    const metrics = await env.gw.gateway.metrics.registry.getSingleMetric('portcullis_consumer_requests_total')!.get();
    const series = metrics.values.map((v) => `${String(v.labels.consumer)} ${String(v.labels.route)} ${String(v.labels.status_class)} ${v.value}`).sort();
    expect(series).toEqual(
      [`${a!.id} keys 2xx 2`, `${a!.id} keys 4xx 1`, `${b!.id} keys 2xx 1`, `__other__ keys 2xx ${later.length}`].sort(),
    );
    const text = await env.gw.gateway.metrics.registry.metrics();
    for (const c of later) expect(text).not.toContain(c.id);
  });

  it('applies a raised cap on reload: the next new consumer gets its own label', async () => {
    const config = structuredClone(env.gw.gateway.config.config) as unknown as { metrics: { maxConsumerLabels: number } };
    config.metrics.maxConsumerLabels = 3;
    expect(await env.gw.gateway.reloadFromText(YAML.stringify(config))).toBe(true);
    const [, , third, fourth] = consumers;
    expect(await call('/orders/1', third!.key)).toBe(200);
    expect(await call('/orders/1', fourth!.key)).toBe(200);
    const text = await env.gw.gateway.metrics.registry.metrics();
    expect(text).toContain(`portcullis_consumer_requests_total{consumer="${third!.id}",route="keys",status_class="2xx"} 1`);
    expect(text).not.toContain(fourth!.id);
  });
});

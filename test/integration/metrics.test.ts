import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

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

  it('counts monitor-mode would-be denials by policy', async () => {
    await (await request(`${gw.url}/a`, { method: 'DELETE' })).body.dump();
    expect(await text()).toMatch(/portcullis_policy_decisions_total\{policy="allowed-methods",decision="monitor"\} [1-9]/);
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

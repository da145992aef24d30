import { afterEach, describe, expect, it } from 'vitest';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../../../test/helpers/servers.js';
import { validatePolicyConfig } from '../../../test/helpers/policy.js';
import { jsonLimitsPolicy } from './index.js';

describe('json-limits schema', () => {
  it('defaults every limit', () => {
    expect(validatePolicyConfig(jsonLimitsPolicy, {})).toEqual({ maxDepth: 64, maxKeys: 1000, maxStringLength: 65_536, maxArrayLength: 10_000, maxBytes: '1mb' });
  });

  it('refuses a zero depth and unknown fields', () => {
    expect(() => validatePolicyConfig(jsonLimitsPolicy, { maxDepth: 0 })).toThrow(/maxDepth/);
    expect(() => validatePolicyConfig(jsonLimitsPolicy, { depth: 3 })).toThrow(/unknown field "depth"/);
  });
});

describe('json-limits on a route without a spec', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function start(mode = 'enforce'): Promise<void> {
    upstream = await startUpstreamEcho();
    const global = `policies:\n  - name: json-limits\n    mode: ${mode}\n    config: { maxDepth: 4, maxKeys: 3, maxBytes: 256 }\n`;
    gw = await startGateway(basicConfig('', global), { upstreamUrl: upstream.url });
  }

  const post = (body: string, contentType = 'application/json') =>
    fetch(`${gw.url}/things`, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('forwards a JSON body within the limits byte for byte', async () => {
    await start();
    const body = '{ "a" : [1, 2], "b":{"c":"d"} }';
    expect((await post(body)).status).toBe(200);
    expect(upstream.seen[0]!.body.toString()).toBe(body);
  });

  it('refuses duplicate keys with 400 problem+json and never calls the upstream', async () => {
    await start();
    const res = await post('{"role":"user","role":"admin"}');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as Record<string, unknown>;
    expect(problem.code).toBe('GW_JSON_DUPLICATE_KEY');
    expect(JSON.stringify(problem)).not.toContain('admin');
    expect(upstream.seen).toHaveLength(0);
  });

  it('refuses too deep, too many keys, __proto__ and too large bodies', async () => {
    await start();
    const codeOf = async (body: string, ct?: string) => ((await (await post(body, ct)).json()) as { code: string }).code;
    expect(await codeOf('[[[[[1]]]]]')).toBe('GW_JSON_LIMIT_EXCEEDED');
    expect(await codeOf('{"a":1,"b":2,"c":3,"d":4}')).toBe('GW_JSON_LIMIT_EXCEEDED');
    expect(await codeOf('{"x":{"__proto__":{"admin":true}}}', 'application/merge-patch+json')).toBe('GW_JSON_FORBIDDEN_KEY');
    expect(await codeOf(`["${'x'.repeat(300)}"]`)).toBe('GW_REQUEST_TOO_LARGE');
    expect(upstream.seen).toHaveLength(0);
  });

  it('lets a body not declared as JSON stream through unchecked', async () => {
    await start();
    expect((await post('{"a":1,"a":2}', 'text/plain')).status).toBe(200);
    expect(upstream.seen).toHaveLength(1);
  });

  it('in monitor mode forwards the duplicate-key body and logs the would-be denial', async () => {
    await start('monitor');
    expect((await post('{"a":1,"a":2}')).status).toBe(200);
    expect(upstream.seen[0]!.body.toString()).toBe('{"a":1,"a":2}');
    await expect.poll(() => gw.logs.access().length).toBe(1);
    expect(gw.logs.access()[0]!.monitor).toEqual([{ policy: 'json-limits', code: 'GW_JSON_DUPLICATE_KEY', reason: expect.stringContaining('duplicate JSON key') }]);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/config-error.js';
import { loadConfigText } from '../../config/load.js';

const config = (tracing: string) => `version: 1
upstreams:
  up:
    targets: [{ url: "http://127.0.0.1:1" }]
routes:
  - name: r
    match: { paths: ["/a/*"] }
    forward: { upstream: up }
${tracing}
`;

function refusal(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfigText(text, '/etc/portcullis/gw.yaml', { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((i) => `${i.field}: ${i.message}`).join('\n');
  }
  throw new Error('expected the config to be refused');
}

describe('tracing config', () => {
  it('defaults to propagation only: continued from trusted proxies, everything sampled, no spans', () => {
    const { tracing } = loadConfigText(config(''), '/x/gw.yaml').config;
    expect(tracing).toMatchObject({ continueFrom: 'trusted-proxies', sampleRatio: 1, enabled: false, serviceName: 'portcullis', headers: {} });
  });

  it('takes export headers from the environment', () => {
    const loaded = loadConfigText(config('tracing: { enabled: true, headers: { x-api-key: "${ENV:OTLP_KEY}" } }'), '/x/gw.yaml', { env: { OTLP_KEY: 'k-123' } });
    expect(loaded.config.tracing.headers).toEqual({ 'x-api-key': 'k-123' });
  });

  it.each([
    ['a header value with a line break (header injection into the exporter request)', 'tracing: { headers: { x-a: "v\\r\\nx-b: w" } }', 'tracing.headers.x-a'],
    ['a sample ratio above 1', 'tracing: { sampleRatio: 1.5 }', 'sampleRatio'],
    ['an endpoint that is not http(s)', 'tracing: { endpoint: "file:///etc/passwd" }', 'endpoint'],
    ['an unknown continueFrom', 'tracing: { continueFrom: everyone }', 'continueFrom'],
    ['an unknown field', 'tracing: { exporter: grpc }', 'exporter'],
  ])('refuses %s', (_name, tracing, where) => {
    expect(refusal(config(tracing))).toContain(where);
  });
});

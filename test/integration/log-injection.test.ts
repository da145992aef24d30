import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/config-error.js';
import { basicConfig, rawRequest, startGateway, startUpstreamEcho, statusOf, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

/** Attacks a client can make on the gateway's logs, over a raw socket so nothing cleans them first. */
describe('log injection through a real gateway', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;
  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    gw = await startGateway(
      basicConfig(
        `    policies: [{ name: allowed-methods, config: { methods: [GET] } }]
  - name: quiet
    match: { paths: ["/health"] }
    forward: { upstream: up }
    policies: [{ name: allowed-methods, config: { methods: [GET] } }]`,
        `logging: { sampling: { routes: { quiet: 0 } } }`,
      ),
      { upstreamUrl: upstream.url },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  const attacks: [string, string][] = [
    ['encoded CR LF and ESC in the path', 'GET /a%0d%0a%7b%22forged%22%3atrue%7d%1b%5b31m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['CR LF and ESC in the query', 'GET /q?x=%0d%0a%1b[2J&y=\u001b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['C1 controls (NEL, CSI) as obs-text bytes in headers', 'GET /h HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x85b\x9b31m\r\nX-Api-Key: k\x85{"forged":1}\r\nConnection: close\r\n\r\n'],
    ['a bare LF inside a header value', 'GET /lf HTTP/1.1\r\nHost: x\r\nX-Note: a\nforged: 1\r\nConnection: close\r\n\r\n'],
    ['raw ESC in the request line', 'GET /e\x1b[31m HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['a method the route refuses, with control text in the path', 'DELETE /d%0a%1b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ];

  for (const [name, payload] of attacks) {
    it(`keeps one access line without raw control bytes: ${name}`, async () => {
      const before = gw.logs.raw.length;
      const reply = await rawRequest(gw.port, Buffer.from(payload, 'latin1'));
      expect(statusOf(reply)).toBeGreaterThan(0);
      await expect.poll(() => gw.logs.access().length, { timeout: 2000 }).toBeGreaterThan(0);
      const lines = gw.logs.raw.slice(before);
      for (const line of lines) {
        expect(line).not.toMatch(RAW_CONTROL);
        expect((JSON.parse(line) as Record<string, unknown>).forged).toBeUndefined();
      }
      const access = lines.filter((l) => l.includes('"type":"access"'));
      expect(access.length).toBeLessThanOrEqual(1);
    });
  }

  it('samples away allowed lines of a quiet route but keeps its denials', async () => {
    const before = gw.logs.access().length;
    for (let i = 0; i < 5; i++) expect(statusOf(await rawRequest(gw.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBe(200);
    expect(statusOf(await rawRequest(gw.port, 'POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'))).toBe(405);
    expect(statusOf(await rawRequest(gw.port, 'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))).toBe(200);
    await expect.poll(() => gw.logs.access().length - before, { timeout: 2000 }).toBe(2);
    expect(gw.logs.access().slice(-2)).toMatchObject([{ path: '/health', route: 'quiet', decision: 'deny' }, { path: '/a' }]);
  });

  it('refuses sampling for a route that does not exist, and a redact path pino cannot compile', () => {
    const bad = basicConfig('', 'logging: { sampling: { routes: { nope: 0.5 } }, redact: ["a..b"] }').replaceAll('{{UPSTREAM}}', 'http://127.0.0.1:1');
    const error = (() => {
      try {
        loadConfigText(bad, '/tmp/x.yaml');
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues.map((i) => i.message).join('\n')).toMatch(/unknown route "nope"[\s\S]*not a valid redact path/);
  });
});

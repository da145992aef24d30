import { afterEach, describe, expect, it } from 'vitest';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

describe('csrf policy through the gateway', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('refuses a cross-site POST with the session cookie and lets the same-origin one and cookie-less ones through', async () => {
    upstream = await startUpstreamEcho();
    const route = `    policies:\n      - name: csrf\n        config: { cookieNames: [session], doubleSubmit: {} }\n`;
    gw = await startGateway(basicConfig(route), { upstreamUrl: upstream.url });
    const host = `127.0.0.1:${gw.port}`;
    const post = (headers: Record<string, string>) => fetch(`${gw.url}/account`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });

    const forged = await post({ cookie: 'session=s; csrf-token=t', 'x-csrf-token': 't', origin: 'https://evil.example' });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { code: string }).code).toBe('GW_CSRF_DENIED');
    const mismatch = await post({ cookie: 'session=s; csrf-token=t', 'x-csrf-token': 'other', origin: `http://${host}` });
    expect(mismatch.status).toBe(403);
    expect(upstream.seen).toHaveLength(0);

    expect((await post({ cookie: 'session=s; csrf-token=t', 'x-csrf-token': 't', origin: `http://${host}` })).status).toBe(200);
    expect((await post({ origin: 'https://evil.example' })).status).toBe(200); // no cookie: nothing to forge
    expect((await fetch(`${gw.url}/account`, { headers: { cookie: 'session=s', origin: 'https://evil.example' } })).status).toBe(200);
    expect(upstream.seen).toHaveLength(3);
  });
});

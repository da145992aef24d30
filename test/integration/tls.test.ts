import { readFileSync } from 'node:fs';
import { request as httpsRequest, createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

const TLS_DIR = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const fixture = (name: string) => `${TLS_DIR}${name}`;
const CA = readFileSync(fixture('ca.pem'));

interface HttpsReply {
  status: number;
  protocol: string | null;
  body: string;
}

/** One GET over HTTPS with the given TLS limits; resolves with the negotiated protocol. */
function httpsGet(port: number, path: string, tls: ConnectionOptions = {}): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca: CA, agent: false, ...tls }, (res) => {
      const protocol = (res.socket as TLSSocket).getProtocol();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, protocol, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface HandshakeOutcome {
  connected: boolean;
  error: string | undefined;
  bytes: number;
}

/** A bare TLS handshake (then an HTTP request if it succeeds): says whether it connected and what came back. */
function handshake(port: number, options: ConnectionOptions): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const outcome: HandshakeOutcome = { connected: false, error: undefined, bytes: 0 };
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: CA, ...options }, () => {
      outcome.connected = true;
      socket.write('GET /tls/x HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n');
    });
    socket.on('data', (c: Buffer) => (outcome.bytes += c.length));
    socket.on('error', (error: Error & { code?: string }) => (outcome.error = error.code ?? error.message));
    socket.on('close', () => resolve(outcome));
  });
}

describe('HTTPS listener', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    gw = await startGateway(
      `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0, tls: { cert: "${fixture('server.pem')}", key: "${fixture('server.key')}" } }]
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
  - name: tls
    match: { paths: ["/tls/*"] }
    forward: { upstream: up }
`,
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('serves proxied requests over TLS 1.3', async () => {
    const reply = await httpsGet(gw.port, '/tls/13', { minVersion: 'TLSv1.3' });
    expect(reply.status).toBe(200);
    expect(reply.protocol).toBe('TLSv1.3');
    expect(upstream.seen.at(-1)!.url).toBe('/tls/13');
  });

  it('serves proxied requests over TLS 1.2 with a forward-secret AEAD suite', async () => {
    const reply = await httpsGet(gw.port, '/tls/12', { maxVersion: 'TLSv1.2' });
    expect(reply.status).toBe(200);
    expect(reply.protocol).toBe('TLSv1.2');
    const outcome = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: gw.port, ca: CA, maxVersion: 'TLSv1.2' }, () => {
        resolve(socket.getCipher().name);
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(outcome).toMatch(/^ECDHE-RSA-(AES\d+-GCM|CHACHA20-POLY1305)/);
  });

  it('refuses a client limited to TLS 1.0 or 1.1 during the handshake, without any HTTP response', async () => {
    const before = upstream.seen.length;
    const outcome = await handshake(gw.port, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(outcome.connected).toBe(false);
    expect(outcome.error).toMatch(/ERR_SSL/);
    expect(outcome.bytes).toBe(0);
    expect(upstream.seen).toHaveLength(before);
    // Refused handshakes are counted, so a scan or a downgrade attempt shows on the dashboard.
    await expect.poll(async () => (await gw.gateway.metrics.registry.getSingleMetricAsString('portcullis_tls_handshake_errors_total'))).toMatch(/listener="main"\} [1-9]/);
  });

  it('refuses a TLS 1.2 client that offers only a weak, non-forward-secret cipher', async () => {
    const outcome = await handshake(gw.port, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' });
    expect(outcome.connected).toBe(false);
    expect(outcome.error).toMatch(/ERR_SSL/);
    expect(outcome.bytes).toBe(0);
  });

  it('refuses a TLS 1.2 client offering CBC suites even with forward secrecy', async () => {
    const outcome = await handshake(gw.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA' });
    expect(outcome.connected).toBe(false);
    expect(outcome.bytes).toBe(0);
  });

  it('tells the upstream the client used https (X-Forwarded-Proto and Forwarded proto)', async () => {
    const reply = await httpsGet(gw.port, '/tls/proto');
    expect(reply.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers.forwarded).toMatch(/;proto=https;/);
  });

  it('answers problem+json over TLS for gateway errors', async () => {
    const reply = await httpsGet(gw.port, '/nowhere');
    expect(reply.status).toBe(404);
    expect((JSON.parse(reply.body) as Record<string, unknown>).code).toBe('GW_ROUTE_NOT_FOUND');
  });
});

describe('HTTPS listener with minVersion TLSv1.3', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(
      `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0, tls: { cert: "${fixture('server.pem')}", key: "${fixture('server.key')}", minVersion: TLSv1.3 } }]
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "http://127.0.0.1:9" }] }
routes:
  - { name: all, match: { paths: ["/*"] }, forward: { upstream: up } }
`,
    );
  });
  afterAll(() => gw.close());

  it('refuses a TLS 1.2 client', async () => {
    const outcome = await handshake(gw.port, { maxVersion: 'TLSv1.2' });
    expect(outcome.connected).toBe(false);
    expect(outcome.bytes).toBe(0);
  });
});

describe('HTTPS upstreams with a private CA and a client certificate', () => {
  let upstream: Server;
  let upstreamUrl: string;
  let gw: TestGateway;
  const warnings: (Error & { code?: string })[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  beforeAll(async () => {
    process.on('warning', onWarning);
    upstream = createHttpsServer(
      { cert: readFileSync(fixture('server.pem')), key: readFileSync(fixture('server.key')), ca: CA, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ client: peer.subject?.CN ?? null, url: req.url }));
      },
    );
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const withCert = `cert: "${fixture('client.pem')}", key: "${fixture('client.key')}"`;
    const up = (tls: string) => `{ targets: [{ url: "${upstreamUrl}" }], retries: 0, healthChecks: { passive: { failures: 0 } }, tls: { ${tls} } }`;
    const route = (name: string) => `  - { name: ${name}, match: { paths: ["/${name}/*"] }, forward: { upstream: ${name}, stripPrefix: /${name} } }\n`;
    gw = await startGateway(
      `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  good: ${up(`ca: "${fixture('ca.pem')}", ${withCert}`)}
  byname: ${up(`ca: "${fixture('ca.pem')}", ${withCert}, servername: localhost`)}
  noca: ${up(withCert)}
  otherca: ${up(`ca: "${fixture('other-ca.pem')}", ${withCert}`)}
  nocert: ${up(`ca: "${fixture('ca.pem')}"`)}
routes:
${['good', 'byname', 'noca', 'otherca', 'nocert'].map(route).join('')}`,
    );
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await gw.close();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('succeeds with the right CA and client certificate, verifying the IP SAN of the target', async () => {
    const res = await request(`${gw.url}/good/items`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ client: 'portcullis-test-client', url: '/items' });
    // RFC 6066 section 3: no IP literal in SNI (Node warns with DEP0123 when one is set).
    expect(warnings.filter((w) => w.code === 'DEP0123')).toEqual([]);
  });

  it('verifies against tls.servername when set', async () => {
    const res = await request(`${gw.url}/byname/items`);
    expect(res.statusCode).toBe(200);
    expect(((await res.body.json()) as Record<string, unknown>).client).toBe('portcullis-test-client');
  });

  const refusals: [string, string][] = [
    ['noca', 'without the private CA (certificate not trusted)'],
    ['otherca', 'trusting only an unrelated CA'],
    ['nocert', 'without a client certificate'],
  ];
  for (const [route, why] of refusals) {
    it(`answers 502 GW_UPSTREAM_UNAVAILABLE ${why}, revealing nothing about TLS`, async () => {
      const res = await request(`${gw.url}/${route}/items`);
      expect(res.statusCode).toBe(502);
      expect(res.headers['content-type']).toBe('application/problem+json');
      const text = await res.body.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body.code).toBe('GW_UPSTREAM_UNAVAILABLE');
      expect(body.detail).toBeUndefined();
      expect(text).not.toMatch(/cert|CERT|SSL|self.signed|socket/i);
    });
  }
});

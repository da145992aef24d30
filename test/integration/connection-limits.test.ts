import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, startUpstreamEcho, statusOf, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

const TLS_DIR = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const CA = readFileSync(`${TLS_DIR}ca.pem`);

function config(upstream: string, extra = '', tls = ''): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0${tls} }]
  limits: { maxConnectionsPerIp: 2 }
${extra}
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "${upstream}" }] }
routes:
  - { name: all, match: { paths: ["/*"] }, forward: { upstream: up } }
`;
}

/** An idle connection from `localAddress`, resolved once connected (the gateway may not have counted it yet). */
function hold(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** One GET on a new connection from `localAddress`: the status, or 0 when the connection was closed unanswered. */
function getFrom(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(statusOf(Buffer.concat(chunks).toString('latin1'))));
    socket.write('GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });
}

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function refusedCount(gw: TestGateway): Promise<number> {
  const values = (await gw.gateway.metrics.registry.getSingleMetric('portcullis_connections_refused_total')!.get()).values;
  return values.find((v) => v.labels.reason === 'per_ip_limit')?.value ?? 0;
}

describe('server.limits.maxConnectionsPerIp', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway | undefined;
  const sockets: Socket[] = [];

  beforeAll(async () => (upstream = await startUpstreamEcho()));
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await gw?.close();
    gw = undefined;
  });
  afterAll(async () => upstream.close());

  it('closes the third connection from one IP unanswered while another IP still connects, and counts it', async () => {
    gw = await startGateway(config(upstream.url));
    sockets.push(await hold(gw.port, '127.0.0.1'), await hold(gw.port, '127.0.0.1'));
    await waitFor(() => gw!.gateway.connections.count('127.0.0.1') === 2);

    expect(await getFrom(gw.port, '127.0.0.1')).toBe(0);
    expect(upstream.seen).toHaveLength(0);
    expect(await getFrom(gw.port, '127.0.0.2')).toBe(200);
    expect(await refusedCount(gw)).toBe(1);
  });

  it('frees the place when a connection closes: the same IP connects again', async () => {
    gw = await startGateway(config(upstream.url));
    sockets.push(await hold(gw.port, '127.0.0.1'), await hold(gw.port, '127.0.0.1'));
    await waitFor(() => gw!.gateway.connections.count('127.0.0.1') === 2);
    expect(await getFrom(gw.port, '127.0.0.1')).toBe(0);
    sockets.shift()!.destroy();
    await waitFor(() => gw!.gateway.connections.count('127.0.0.1') === 1);
    expect(await getFrom(gw.port, '127.0.0.1')).toBe(200);
    // The answered connection closed too: back to the one still held.
    await waitFor(() => gw!.gateway.connections.count('127.0.0.1') === 1);
  });

  it('does not limit trusted proxies, which carry many clients on their connections', async () => {
    gw = await startGateway(config(upstream.url, '  trustedProxies: ["127.0.0.3"]'));
    for (let i = 0; i < 3; i++) sockets.push(await hold(gw.port, '127.0.0.3'));
    expect(await getFrom(gw.port, '127.0.0.3')).toBe(200);
  });

  it('applies to the TLS listener before the handshake: the third TLS connection from one IP never completes it', async () => {
    const tls = `, tls: { cert: "${TLS_DIR}server.pem", key: "${TLS_DIR}server.key" }`;
    gw = await startGateway(config(upstream.url, '', tls));
    const handshake = (localAddress: string) =>
      new Promise<boolean>((resolve) => {
        const tcp = connect({ port: gw!.port, host: '127.0.0.1', localAddress });
        tcp.on('error', () => resolve(false));
        const socket = tlsConnect({ socket: tcp, ca: CA, servername: 'localhost' }, () => {
          sockets.push(socket);
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
    expect(await handshake('127.0.0.1')).toBe(true);
    expect(await handshake('127.0.0.1')).toBe(true);
    await waitFor(() => gw!.gateway.connections.count('127.0.0.1') === 2);
    expect(await handshake('127.0.0.1')).toBe(false);
    expect(await handshake('127.0.0.2')).toBe(true);
    expect(await refusedCount(gw)).toBe(1);
  });

  it('takes a new cap on reload without a restart', async () => {
    gw = await startGateway(config(upstream.url));
    await gw.gateway.reloadFromText(config(upstream.url).replace('maxConnectionsPerIp: 2', 'maxConnectionsPerIp: 1'));
    sockets.push(await hold(gw.port, '127.0.0.1'));
    await waitFor(() => gw!.gateway.connections.count('127.0.0.1') === 1);
    expect(await getFrom(gw.port, '127.0.0.1')).toBe(0);
  });
});

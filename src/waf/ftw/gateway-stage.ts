import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { loadConfigText } from '../../config/load.js';
import { Gateway } from '../../gateway.js';
import { GatewayMetrics } from '../../observability/metrics.js';
import { buildFtwRequest } from './build-request.js';
import type { FtwInput, FtwStage } from './cases.js';

/*
 * The cases that check only the HTTP status (920100's malformed request lines, CONNECT, HTTP/0.9,
 * an empty Host, a fragment in the target, ...) test the server in front of the rules: go-ftw sends
 * them to Apache or nginx with ModSecurity, and the status is the server's. Here the server is the
 * gateway, so they are sent byte for byte to a real one, with the waf policy in monitor mode as the
 * CRS's own CI runs ModSecurity (DetectionOnly): what answers is the gateway's HTTP layer.
 */

export interface FtwGateway {
  readonly port: number;
  close(): Promise<void>;
}

const listen = (server: Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

/** A gateway on 127.0.0.1 whose one route runs the CRS in `crsDir` (monitor mode) in front of a 200 upstream. */
export async function startFtwGateway(crsDir: string): Promise<FtwGateway> {
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const upstreamPort = await listen(upstream);
  const yaml = `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "http://127.0.0.1:${upstreamPort}" }] }
routes:
  - name: crs
    match: { paths: ["/*"] }
    forward: { upstream: up }
    policies:
      - name: waf
        mode: monitor
        config: { crsDir: ${JSON.stringify(crsDir)}, paranoiaLevel: 4, reportingLevel: 0 }
`;
  const loaded = loadConfigText(yaml, path.join(crsDir, 'ftw-gateway.yaml'));
  const logger = pino({ level: 'silent' });
  const gateway = await Gateway.start(loaded, { logger, accessSink: { write: () => undefined }, metrics: new GatewayMetrics({ defaultMetrics: false }) });
  return {
    port: gateway.ports[0]!,
    close: async () => {
      await gateway.close(1000);
      await new Promise((resolve) => upstream.close(resolve));
    },
  };
}

/** The bytes go-ftw writes for a stage: `encoded_request` as given, else the request line, headers and body. */
export function rawFtwRequest(input: FtwInput): Buffer {
  if (input.encoded_request !== undefined) return Buffer.from(input.encoded_request, 'base64');
  const req = buildFtwRequest(input);
  const head = `${req.method} ${req.uri} ${req.protocol}\r\n${req.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), req.body ?? Buffer.alloc(0)]);
}

/** The status of the first response to `payload`, or undefined when the connection ended without one. */
export function statusOfRaw(port: number, payload: Buffer, waitMs = 2000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      resolve(match === null ? undefined : Number(match[1]));
    };
    const timer = setTimeout(done, waitMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) done();
    });
    socket.on('close', done);
    socket.on('error', done);
    socket.write(payload);
  });
}

/** Why the gateway's answer to a status-only stage differs from go-ftw's expectation, or undefined when it does not. */
export async function checkStatusStage(gateway: FtwGateway, stage: FtwStage): Promise<string | undefined> {
  const status = await statusOfRaw(gateway.port, rawFtwRequest(stage.input));
  const expected = stage.output.status;
  if (stage.output.expect_error === true) return status === undefined ? undefined : `expected no answer, got ${status}`;
  if (expected !== undefined && status !== expected) return `expected status ${expected}, the gateway answered ${status ?? 'nothing'}`;
  return undefined;
}

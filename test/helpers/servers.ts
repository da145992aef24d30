import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import pino from 'pino';
import { Writable } from 'node:stream';
import { loadConfigText } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import type { PolicyRegistry } from '../../src/policies/registry.js';

/** What the echo upstream saw, for assertions that the gateway forwarded (or never forwarded) something. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
}

export interface EchoUpstream {
  server: Server;
  port: number;
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A real upstream on port 0 that records every request and answers JSON (or what `handler` says). */
export async function startUpstreamEcho(handler?: Handler): Promise<EchoUpstream> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body });
      if (handler) return handler(req, res, body);
      const text = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyLength: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Collects log lines written by the gateway's pino logger. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
  access(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.type === 'access');
  }
}

export interface TestGateway {
  gateway: Gateway;
  port: number;
  url: string;
  logs: LogCapture;
  close(): Promise<void>;
}

/**
 * Starts a real gateway from YAML text on port 0, with the admin listener off unless the YAML
 * enables it. `{{UPSTREAM}}` in the text is replaced by `upstreamUrl`.
 */
export async function startGateway(
  yaml: string,
  options: { upstreamUrl?: string; file?: string; registry?: PolicyRegistry } = {},
): Promise<TestGateway> {
  const text = options.upstreamUrl === undefined ? yaml : yaml.replaceAll('{{UPSTREAM}}', options.upstreamUrl);
  const loaded = loadConfigText(text, options.file ?? `${process.cwd()}/test-config.yaml`, options.registry === undefined ? {} : { registry: options.registry });
  const logs = new LogCapture();
  const logger = pino({ level: 'info', base: null, timestamp: false }, logs);
  const gateway = await Gateway.start(loaded, { logger, accessSink: logs, metrics: new GatewayMetrics({ defaultMetrics: false }) });
  const port = gateway.ports[0]!;
  return { gateway, port, url: `http://127.0.0.1:${port}`, logs, close: () => gateway.close(2000) };
}

/** A minimal config for one upstream and one catch-all route; extra YAML is appended under the route. */
export function basicConfig(routeExtra = '', top = ''): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "{{UPSTREAM}}" }] }
${top}
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
${routeExtra}`;
}

/**
 * Sends bytes exactly as given on a raw socket and resolves with everything the server wrote back
 * before closing (or before `waitMs` of silence). For malformed requests no HTTP client would send.
 */
export function rawRequest(port: number, payload: string | Buffer, waitMs = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), 300);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.write(payload);
  });
}

/** Status code of the first response in a raw reply. */
export function statusOf(raw: string): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  return match === null ? 0 : Number(match[1]);
}

/** The problem+json body of a raw reply. */
export function problemOf(raw: string): Record<string, unknown> {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return JSON.parse(body) as Record<string, unknown>;
}

let nextDeadPort = 1;

/**
 * A port nothing listens on, for a target that must refuse connections (ECONNREFUSED).
 * Taken from the privileged ports, below the kernel's ephemeral range (32768 and up on Linux), and
 * checked to refuse: a port bound on 0 and released would be the very kind that freePort() and every
 * other test's `listen(0)` hand out, so a server of a test running alongside could take it and answer
 * (seen in CI: a tracing test's "dead" retry target was a cluster test's worker a moment later).
 * Nothing here binds a privileged port, so it stays dead; distinct within a process.
 */
export async function deadPort(): Promise<number> {
  while (nextDeadPort < 1024) {
    const port = nextDeadPort++;
    if (await refuses(port)) return port;
  }
  throw new Error('no privileged port left that refuses connections');
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

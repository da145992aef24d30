import { request } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import { parseTraceparent } from '../../src/observability/tracing/trace-context.js';
import { waitFor } from './child-gateway.js';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from './servers.js';

/** Shared by the tracing integration tests (test/integration/tracing-spans.test.ts, trace-context.test.ts). */
export const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
export const PARENT = '00f067aa0ba902b7';
export const SECRET = 'query-secret-value-7731';

/** A gateway config with `tracing` lines, two routes (/users/{id} allowed, /blocked/* denied by ip-restriction) and global policies in two phases. */
export function config(tracing: string, server = ''): string {
  return `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
${server}
admin: { enabled: false }
tracing:
${tracing}
upstreams:
  up: { targets: [{ url: "{{UPSTREAM}}" }] }
policies:
  - name: ip-restriction
    config: { allow: ["127.0.0.0/8"] }
  - name: security-headers
routes:
  - name: users
    match: { paths: ["/users/{id}"] }
    forward: { upstream: up }
    policies:
      - name: allowed-methods
        config: { methods: [GET] }
  - name: blocked
    match: { paths: ["/blocked/*"] }
    forward: { upstream: up }
    policies:
      - name: ip-restriction
        config: { deny: ["127.0.0.0/8"] }
`;
}

/** Adds upstream `flaky` (a dead target, then the echo upstream; one retry) and route /retry/* to it. */
export function withRetryRoute(deadPort: number, yaml: string): string {
  return yaml
    .replace('upstreams:\n', `upstreams:\n  flaky: { targets: [{ url: "http://127.0.0.1:${deadPort}" }, { url: "{{UPSTREAM}}" }], retries: 1 }\n`)
    .replace('routes:\n', 'routes:\n  - name: retry\n    match: { paths: ["/retry/*"] }\n    forward: { upstream: flaky }\n');
}

/** Sends one request and returns what the upstream got as traceparent (parsed) and the access line. */
export async function call(gw: TestGateway, upstream: EchoUpstream, path: string, headers: Record<string, string> = {}) {
  const before = upstream.seen.length;
  const accessBefore = gw.logs.access().length;
  const res = await request(`${gw.url}${path}`, { headers });
  await res.body.dump();
  const seen = upstream.seen.length > before ? upstream.seen.at(-1)! : undefined;
  const access = await waitFor(() => gw.logs.access()[accessBefore], 2000, 'the access line');
  const raw = seen?.headers.traceparent as string | undefined;
  return { status: res.statusCode, seen, raw, sent: raw === undefined ? undefined : parseTraceparent(raw), access, requestId: res.headers['x-request-id'] };
}

export function byKind(spans: ReceivedSpan[], kind: number): ReceivedSpan[] {
  return spans.filter((s) => s.kind === kind);
}

/** An echo upstream, an OTLP receiver and a gateway on `yaml(receiverUrl)`, for one describe block. */
export interface TracingRig {
  upstream: EchoUpstream;
  receiver: OtlpReceiver;
  gw: TestGateway;
}

/** Registers beforeAll/afterAll in the calling describe block; the fields are set once beforeAll ran. */
export function tracingRig(yaml: (receiverUrl: string) => string | Promise<string>): TracingRig {
  const rig = {} as TracingRig;
  beforeAll(async () => {
    rig.upstream = await startUpstreamEcho();
    rig.receiver = await OtlpReceiver.start();
    rig.gw = await startGateway(await yaml(rig.receiver.url), { upstreamUrl: rig.upstream.url });
  });
  afterAll(async () => {
    await rig.gw?.close();
    await rig.receiver?.close();
    await rig.upstream?.close();
  });
  return rig;
}

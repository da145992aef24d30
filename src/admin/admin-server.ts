import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface AdminSources {
  /** Text exposition of the metrics (one registry, or the cluster's aggregate). */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Ready when listeners are bound and the gateway is not draining. */
  ready(): boolean;
  /** The public keys upstreams verify phantom tokens with (every worker's, in a cluster). */
  phantomJwks?(): Promise<{ keys: readonly object[] }>;
}

/**
 * Where upstreams fetch the phantom-token keys (RFC 7517 JWK Set). Under /.well-known/ so it reads as
 * the metadata it is; it is the admin listener's own path, not a registered well-known URI.
 */
export const PHANTOM_JWKS_PATH = '/.well-known/phantom-jwks.json';

export function registrySource(registry: Registry): AdminSources['metrics'] {
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() });
}

/**
 * The admin listener: health for liveness, ready for load balancers, metrics for Prometheus, the
 * phantom-token JWKS for upstreams. It binds to loopback by default and serves nothing that changes
 * state, and nothing secret (the JWKS holds public keys only).
 */
export function createAdminServer(sources: AdminSources): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { status: 'method not allowed' }, { allow: 'GET, HEAD' });
    if (path === '/health') return send(res, 200, { status: 'ok' });
    if (path === '/ready') return sources.ready() ? send(res, 200, { status: 'ready' }) : send(res, 503, { status: 'not ready' });
    if (path === '/metrics') {
      sources.metrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
          res.end(body);
        },
        () => send(res, 500, { status: 'metrics unavailable' }),
      );
      return;
    }
    if (path === PHANTOM_JWKS_PATH && sources.phantomJwks !== undefined) {
      sources.phantomJwks().then(
        // RFC 7517 section 8.5.1 media type. Short caching: keys change on reload and on restart
        // (generated ones), and verifiers such as jose refetch on an unknown kid anyway.
        (jwks) => send(res, 200, jwks, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=60' }),
        () => send(res, 500, { status: 'jwks unavailable' }),
      );
      return;
    }
    send(res, 404, { status: 'not found' });
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

import { Socket } from 'node:net';
import { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from '../../src/core/context.js';
import type { PolicyDeps } from '../../src/core/policy.js';
import { silentLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { OFFLINE_BACKENDS } from '../../src/backends.js';

export interface ContextOptions {
  method?: string;
  url?: string;
  /** Lower-case names, as Node presents `req.headers`. */
  headers?: Record<string, string>;
  /** Defaults to the `headers` entries flattened, as Node would have received them. */
  rawHeaders?: string[];
  clientIp?: string;
  protocol?: 'http' | 'https';
}

/**
 * A real RequestContext over a real (unconnected) IncomingMessage and ServerResponse, filled in the
 * way the listener fills it, so policies are tested against the objects they meet in production.
 */
export function makeContext(options: ContextOptions = {}): RequestContext {
  const req = new IncomingMessage(new Socket());
  req.method = options.method ?? 'GET';
  req.url = options.url ?? '/';
  const headers = options.headers ?? {};
  req.headers = { ...headers };
  req.rawHeaders = options.rawHeaders ?? Object.entries(headers).flat();
  const res = new ServerResponse(req);
  const ctx = new RequestContext(req, res, Date.now());
  const url = req.url;
  const q = url.indexOf('?');
  ctx.path = q === -1 ? url : url.slice(0, q);
  ctx.query = q === -1 ? '' : url.slice(q + 1);
  ctx.host = (headers['host'] ?? '').toLowerCase().replace(/:\d+$/, '');
  ctx.requestId = 'test-request';
  ctx.clientIp = options.clientIp ?? '127.0.0.1';
  ctx.remoteAddress = ctx.clientIp;
  ctx.protocol = options.protocol ?? 'http';
  return ctx;
}

/** Dependencies with nothing observable attached: a silent logger and a private metrics registry. */
export function makeDeps(overrides: Partial<PolicyDeps> = {}): PolicyDeps {
  return {
    logger: silentLogger(),
    metrics: new GatewayMetrics({ defaultMetrics: false }),
    now: () => Date.now(),
    routeName: 'test',
    configDir: process.cwd(),
    ...OFFLINE_BACKENDS,
    ...overrides,
  };
}

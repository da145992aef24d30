import type { Logger } from 'pino';
import type { Backends } from '../backends.js';
import type { AccessLog } from '../observability/access-log.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntry } from '../audit/record.js';
import type { LoadedConfig } from '../config/load.js';
import { ConfigError } from '../config/config-error.js';
import { parseDuration } from '../config/units.js';
import type { ResolvedAttachment } from '../config/resolve-policies.js';
import type { RouteConfig } from '../config/schema.js';
import type { RouteInfo } from '../core/context.js';
import { PHASE_RANK } from '../core/phases.js';
import { Pipeline, type PipelineStep } from '../core/pipeline.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { AccessSampler } from '../observability/sampler.js';
import type { SpanFactory } from '../observability/tracing/spans.js';
import { TracePropagation } from '../observability/tracing/propagation.js';
import { Router } from './router.js';
import { TrustedProxies } from './client-address.js';
import { Upstream } from './upstream.js';
import type { LoadShedder } from './load-shedder.js';
import type { NormalizeOptions } from './normalize-path.js';

/** A route with everything compiled: its chain, its upstream, its path rewrite. */
export interface CompiledRoute extends RouteInfo {
  readonly index: number;
  readonly pipeline: Pipeline;
  readonly upstream: Upstream;
  readonly stripPrefix: string | undefined;
  readonly addPrefix: string | undefined;
  readonly preserveHost: boolean;
  readonly websocket: boolean;
  readonly websocketIdleMs: number;
}

export interface RuntimeDeps {
  readonly logger: Logger;
  /** Store and StateStore, opened lazily (src/backends.ts). */
  readonly backends: Pick<Backends, 'store' | 'state'>;
  /** Writes one line per request when the snapshot's `logging.accessLog` is on; undefined when there is no sink. */
  readonly accessLog: AccessLog | undefined;
  readonly metrics: GatewayMetrics;
  readonly now: () => number;
  /** `server.loadShedding`, one per process and kept across reloads; undefined in tests that build a runtime alone. */
  readonly loadShedder?: LoadShedder;
  /** Records security decisions (docs/audit.md); undefined when `audit.enabled` is false. */
  readonly audit?: AuditLog | undefined;
  /** OpenTelemetry spans when `tracing.enabled` (loaded once per process); propagation works without. */
  readonly spans?: SpanFactory | undefined;
}

/**
 * One config snapshot, compiled: routes, chains, upstream pools. Requests hold the snapshot they
 * started on; a reload swaps in a new one and retires this one once its requests have finished.
 * Upstreams whose config did not change are carried over, so a reload keeps warm connections.
 */
export class GatewayRuntime {
  readonly routes: readonly CompiledRoute[];
  readonly router: Router<CompiledRoute>;
  readonly notFound: Pipeline;
  readonly trustedProxies: TrustedProxies;
  readonly normalize: NormalizeOptions;
  readonly requestIdHeader: string;
  readonly accessLog: boolean;
  /** `logging.sampling`: which allowed requests get an access line. */
  readonly accessSampler: AccessSampler;
  /** W3C trace context: continue or start each request's trace, sample it, start its spans. */
  readonly tracing: TracePropagation;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  inflight = 0;
  private retired = false;
  private onDrained: (() => void) | undefined;

  constructor(
    readonly loaded: LoadedConfig,
    readonly deps: RuntimeDeps,
    previous?: GatewayRuntime,
  ) {
    const { config } = loaded;
    this.upstreams = buildUpstreams(loaded, deps, previous);
    const issues: ConfigError['issues'][number][] = [];
    const chain = (attachments: readonly ResolvedAttachment[], routeName: string) => buildPipeline(attachments, routeName, loaded, deps, issues);
    this.notFound = chain(loaded.globalPolicies, '*');
    this.routes = config.routes.map((route, index) => compileRoute(route, index, chain(loaded.routePolicies[index]!, route.name), this.upstreams));
    if (issues.length > 0) throw new ConfigError(issues);
    this.router = new Router(config.routes, this.routes);
    this.trustedProxies = new TrustedProxies(config.server.trustedProxies);
    this.normalize = config.server.paths;
    this.requestIdHeader = config.server.requestIdHeader;
    this.accessLog = config.logging.accessLog;
    this.accessSampler = new AccessSampler(config.logging.sampling);
    this.tracing = new TracePropagation(config.tracing, deps.spans);
  }

  start(): void {
    for (const upstream of this.upstreams.values()) upstream.start();
  }

  acquire(): void {
    this.inflight++;
  }

  release(): void {
    this.inflight--;
    if (this.retired && this.inflight === 0) this.onDrained?.();
  }

  /** Stops taking new requests; resolves once the last in-flight one finished (or at once). */
  retire(): Promise<void> {
    this.retired = true;
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.onDrained = resolve));
  }

  /** Closes policies and the upstreams `next` does not carry over. */
  async close(next?: GatewayRuntime): Promise<void> {
    const kept = new Set(next?.upstreams.values() ?? []);
    await Promise.allSettled([
      this.notFound.close(),
      ...this.routes.map((r) => r.pipeline.close()),
      ...[...this.upstreams.values()].filter((u) => !kept.has(u)).map((u) => u.close()),
    ]);
  }
}

function buildUpstreams(loaded: LoadedConfig, deps: RuntimeDeps, previous?: GatewayRuntime): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  for (const [name, config] of Object.entries(loaded.config.upstreams)) {
    const old = previous?.upstreams.get(name);
    const same = old !== undefined && JSON.stringify(old.config) === JSON.stringify(config) && previous!.loaded.dir === loaded.dir;
    out.set(name, same ? old : new Upstream(name, config, loaded.dir, deps.metrics, deps.logger, deps.now));
  }
  return out;
}

function buildPipeline(
  attachments: readonly ResolvedAttachment[],
  routeName: string,
  loaded: LoadedConfig,
  deps: RuntimeDeps,
  issues: ConfigError['issues'][number][],
): Pipeline {
  const ordered = [...attachments].sort((a, b) => PHASE_RANK[a.descriptor.phase] - PHASE_RANK[b.descriptor.phase]);
  const steps: PipelineStep[] = [];
  for (const a of ordered) {
    try {
      const instance = a.descriptor.create(a.config, {
        logger: deps.logger.child({ policy: a.descriptor.name, route: routeName }),
        metrics: deps.metrics,
        now: deps.now,
        routeName,
        configDir: loaded.dir,
        store: deps.backends.store,
        state: deps.backends.state,
        ...(deps.audit === undefined ? {} : { audit: auditFn(deps.audit) }),
      });
      steps.push({ name: a.descriptor.name, phase: a.descriptor.phase, mode: a.mode, failureMode: a.failureMode, instance });
    } catch (error) {
      issues.push(loaded.locate([...a.path, 'config'], (error as Error).message));
    }
  }
  return new Pipeline(steps, deps.logger, deps.metrics);
}

const auditFns = new WeakMap<AuditLog, (entry: AuditEntry) => void>();

/** One bound function per audit log, shared by every policy instance. */
function auditFn(log: AuditLog): (entry: AuditEntry) => void {
  let fn = auditFns.get(log);
  if (fn === undefined) auditFns.set(log, (fn = (entry) => log.record(entry)));
  return fn;
}

function compileRoute(route: RouteConfig, index: number, pipeline: Pipeline, upstreams: ReadonlyMap<string, Upstream>): CompiledRoute {
  return {
    name: route.name,
    methods: route.match.methods,
    index,
    pipeline,
    upstream: upstreams.get(route.forward.upstream)!,
    stripPrefix: route.forward.stripPrefix,
    addPrefix: route.forward.addPrefix,
    preserveHost: route.forward.preserveHost,
    websocket: route.forward.websocket,
    websocketIdleMs: parseDuration(route.forward.websocketIdleTimeout),
  };
}

/** The upstream path: strip, then add a prefix; never empty. */
export function upstreamPath(route: CompiledRoute, path: string): string {
  let out = path;
  const strip = route.stripPrefix;
  if (strip !== undefined && (out === strip || out.startsWith(strip.endsWith('/') ? strip : strip + '/'))) {
    out = out.slice(strip.endsWith('/') ? strip.length - 1 : strip.length);
    if (out === '') out = '/';
  }
  if (route.addPrefix !== undefined) out = route.addPrefix.replace(/\/$/, '') + out;
  return out;
}

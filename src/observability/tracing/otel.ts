import { diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { Logger } from 'pino';
import { parseDuration } from '../../config/units.js';
import type { Decision, RequestContext } from '../../core/context.js';
import type { Phase } from '../../core/phases.js';
import type { TracingConfig } from './config.js';
import type { RequestSpans, SpanFactory } from './spans.js';
import { formatTraceparent, newSpanId, newTraceId } from './trace-context.js';

/**
 * The OpenTelemetry side, imported only when `tracing.enabled` (src/observability/tracing/load.ts).
 * Spans are built with explicit parents, never through a context manager: no async hooks, no
 * global provider. The SDK's sampler is always-on because only requests the gateway sampled
 * (TracePropagation) get spans at all.
 */

/** The SDK's ids come from the gateway's pool; a new root takes the trace id already in ctx.traceId. */
class GatewayIds implements IdGenerator {
  next: string | undefined;
  generateTraceId(): string {
    const id = this.next ?? newTraceId();
    this.next = undefined;
    return id;
  }
  generateSpanId(): string {
    return newSpanId();
  }
}

/** Longest the shutdown waits for the last spans to be exported. */
const SHUTDOWN_FLUSH_MS = 2000;

/** At most one SDK warning line per this many ms: a collector that is down fails every batch. */
const WARN_EVERY_MS = 10_000;

/**
 * The SDK reports export failures and dropped spans through its (process-wide) diag logger: they
 * become warnings in our log, rate-limited, never exceptions. The export headers are not in them.
 */
function sdkWarnings(logger: Logger): (message: string, ...args: unknown[]) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (message, ...args) => {
    const now = performance.now();
    if (now - last < WARN_EVERY_MS) {
      suppressed++;
      return;
    }
    last = now;
    logger.warn({ otel: [message, ...args].map(String).join(' ').slice(0, 500), suppressed }, 'tracing: OpenTelemetry SDK warning (span export)');
    suppressed = 0;
  };
}

export async function createOtelSpans(config: TracingConfig, logger: Logger): Promise<SpanFactory> {
  const warn = sdkWarnings(logger);
  diag.setLogger(
    { error: warn, warn, info: () => undefined, debug: () => undefined, verbose: () => undefined },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const exportTimeout = parseDuration(config.exportTimeout);
  const exporter = new OTLPTraceExporter({ url: config.endpoint, headers: { ...config.headers }, timeoutMillis: exportTimeout });
  const processor = new BatchSpanProcessor(exporter, {
    maxQueueSize: config.batch.maxQueueSize,
    maxExportBatchSize: Math.min(config.batch.maxExportBatchSize, config.batch.maxQueueSize),
    scheduledDelayMillis: parseDuration(config.batch.scheduledDelay),
    exportTimeoutMillis: exportTimeout,
  });
  const ids = new GatewayIds();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName, 'process.pid': process.pid }),
    sampler: new AlwaysOnSampler(),
    idGenerator: ids,
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('portcullis');
  return {
    start: (ctx, parentId, link) => new OtelRequestSpans(tracer, ids, ctx, parentId, link),
    // A flush to a healthy collector takes milliseconds; a dead one must not hold the shutdown for long.
    shutdown: () => withTimeout(provider.shutdown(), Math.min(exportTimeout, SHUTDOWN_FLUSH_MS)),
  };
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work.catch(() => undefined), deadline]).finally(() => clearTimeout(timer));
}

/** One request's SERVER span, its phase spans and the CLIENT span of each upstream attempt. */
class OtelRequestSpans implements RequestSpans {
  private readonly server: Span;
  private readonly parent: Context;
  private template: string | undefined;
  private phaseName: Phase | undefined;
  private phaseStart = 0;
  private phasePolicies: string[] = [];
  private client: Span | undefined;

  constructor(
    private readonly tracer: Tracer,
    ids: GatewayIds,
    ctx: RequestContext,
    parentId: string | undefined,
    link: { traceId: string; spanId: string } | undefined,
  ) {
    let parent = ROOT_CONTEXT;
    if (parentId !== undefined) parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: ctx.traceId, spanId: parentId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    else ids.next = ctx.traceId;
    const links: Link[] | undefined =
      link === undefined ? undefined : [{ context: { ...link, traceFlags: TraceFlags.NONE, isRemote: true }, attributes: { 'portcullis.link': 'caller trace, not continued' } }];
    this.server = tracer.startSpan(
      ctx.method,
      { kind: SpanKind.SERVER, startTime: ctx.startedAt, attributes: { [ATTR_HTTP_REQUEST_METHOD]: ctx.method, [ATTR_URL_SCHEME]: ctx.protocol }, ...(links === undefined ? {} : { links }) },
      parent,
    );
    ids.next = undefined;
    this.parent = trace.setSpan(ROOT_CONTEXT, this.server);
  }

  route(template: string): void {
    this.template = template;
  }

  step(phase: Phase, policy: string): void {
    if (phase !== this.phaseName) {
      this.closePhase(undefined);
      this.phaseName = phase;
      this.phaseStart = performance.now();
      this.phasePolicies = [];
    }
    this.phasePolicies.push(policy);
  }

  endPhases(ctx: RequestContext): void {
    this.closePhase(ctx.decision);
  }

  /** Ends the open request phase; the last one carries the chain's decision, earlier ones allowed. */
  private closePhase(decision: Decision | undefined): void {
    if (this.phaseName === undefined) return;
    const outcome = decision?.outcome ?? 'allow';
    const attributes: Attributes = { 'portcullis.decision': outcome };
    if (outcome !== 'allow' && decision!.policy !== undefined) attributes['portcullis.decided_by'] = decision!.policy;
    this.record(this.phaseName, this.phasePolicies, this.phaseStart, performance.now(), attributes, outcome === 'error');
    this.phaseName = undefined;
  }

  phase(name: string, policies: readonly string[], startedAt: number, endedAt: number): void {
    this.record(name, policies, startedAt, endedAt, {}, false);
  }

  private record(name: string, policies: readonly string[], startedAt: number, endedAt: number, attributes: Attributes, failed: boolean): void {
    attributes['portcullis.phase'] = name;
    attributes['portcullis.policies'] = [...policies];
    const span = this.tracer.startSpan(`phase ${name}`, { kind: SpanKind.INTERNAL, startTime: startedAt, attributes }, this.parent);
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(endedAt);
  }

  startClient(ctx: RequestContext, origin: string, path: string, attempt: number): string {
    this.client?.end();
    const url = new URL(origin);
    const query = path.indexOf('?');
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: ctx.method,
      [ATTR_SERVER_ADDRESS]: url.hostname,
      [ATTR_SERVER_PORT]: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      // No query string: its values may be credentials (API keys in ?key=).
      [ATTR_URL_FULL]: origin + (query === -1 ? path : path.slice(0, query)),
      'portcullis.upstream': ctx.upstreamName ?? '',
    };
    if (attempt > 1) attributes[ATTR_HTTP_REQUEST_RESEND_COUNT] = attempt - 1;
    this.client = this.tracer.startSpan(ctx.method, { kind: SpanKind.CLIENT, attributes }, this.parent);
    return formatTraceparent(ctx.traceId, this.client.spanContext().spanId, ctx.traceFlags);
  }

  endClient(status: number, error: string | undefined): void {
    const span = this.client;
    if (span === undefined) return;
    this.client = undefined;
    if (status > 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    const failure = error ?? (status >= 400 ? String(status) : undefined);
    if (failure !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, failure);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  end(ctx: RequestContext): void {
    this.closePhase(ctx.decision);
    this.endClient(0, 'response closed first');
    const span = this.server;
    const d = ctx.decision;
    if (this.template !== undefined) {
      span.updateName(`${ctx.method} ${this.template}`);
      span.setAttribute(ATTR_HTTP_ROUTE, this.template);
    }
    span.setAttributes({
      [ATTR_URL_PATH]: ctx.path,
      [ATTR_SERVER_ADDRESS]: ctx.host,
      [ATTR_CLIENT_ADDRESS]: ctx.clientIp,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: ctx.status,
      'portcullis.request_id': ctx.requestId,
      'portcullis.route': ctx.route?.name ?? '',
      'portcullis.decision': d.outcome,
    });
    if (d.policy !== undefined) span.setAttribute('portcullis.decided_by', d.policy);
    if (d.code !== undefined) span.setAttribute('portcullis.code', d.code);
    if (ctx.monitorHits !== undefined) span.setAttribute('portcullis.monitor', ctx.monitorHits.map((h) => h.policy));
    if (ctx.status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(ctx.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
}

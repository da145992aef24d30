import { Type, type Static } from '@sinclair/typebox';
import { Duration, section } from '../../config/types-common.js';

/** The top-level `tracing` section; src/config/schema.ts only places it. See docs/tracing.md. */
export const TracingConfigSchema = section(
  {
    continueFrom: Type.Union([Type.Literal('trusted-proxies'), Type.Literal('anyone'), Type.Literal('nobody')], {
      description:
        'Whose incoming `traceparent` is continued (same trace id, `tracestate` kept): only `server.trustedProxies` (others get a new trace, linked to theirs when spans are on), anyone, or nobody. Applies with tracing disabled too: propagation is always on',
      default: 'trusted-proxies',
    }),
    sampleRatio: Type.Number({
      description:
        'Share of traces sampled (the `sampled` flag sent upstream, and spans exported when enabled). Decided by the gateway with its own random draw; only a trusted proxy\'s sampled flag is followed, a client\'s never',
      minimum: 0,
      maximum: 1,
      default: 1,
    }),
    enabled: Type.Boolean({ description: 'Record OpenTelemetry spans (request, pipeline phases, upstream call) and export them over OTLP/HTTP', default: false }),
    serviceName: Type.String({ description: 'service.name of the exported spans', default: 'portcullis', minLength: 1, maxLength: 128 }),
    endpoint: Type.String({
      description: 'OTLP/HTTP traces endpoint (JSON encoding), such as an OpenTelemetry Collector',
      default: 'http://127.0.0.1:4318/v1/traces',
      pattern: '^https?://',
    }),
    headers: Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), Type.String({ maxLength: 4096, pattern: '^[\\t\\x20-\\x7e]*$' }), {
      description: 'Headers sent with every export, such as an API key; never logged',
      default: {},
      secret: true,
    }),
    exportTimeout: Duration('Longest one export may take, retries included; it never holds a request', '10s'),
    batch: section(
      {
        maxQueueSize: Type.Integer({ description: 'Finished spans held for export; beyond it new spans are dropped (and counted in a warning)', minimum: 64, maximum: 1_000_000, default: 8192 }),
        maxExportBatchSize: Type.Integer({ description: 'Spans per export request', minimum: 1, maximum: 100_000, default: 512 }),
        scheduledDelay: Duration('Longest a finished span waits before export', '2s'),
      },
      'Batch span processor: spans are exported off the request path',
    ),
  },
  'W3C trace context propagation (always on) and OpenTelemetry spans (when enabled)',
);

export type TracingConfig = Static<typeof TracingConfigSchema>;

import type { Logger } from 'pino';
import type { TracingConfig } from './config.js';
import type { SpanFactory } from './spans.js';

/**
 * The span factory when `tracing.enabled`, or undefined. The OpenTelemetry SDK and exporter are
 * imported here, on demand: a gateway without tracing never loads them (startup time, memory, and
 * nothing of OTel on the request path).
 */
export async function loadSpanFactory(config: TracingConfig | undefined, logger: Logger): Promise<SpanFactory | undefined> {
  if (config === undefined || !config.enabled) return undefined;
  const { createOtelSpans } = await import('./otel.js');
  const factory = await createOtelSpans(config, logger);
  logger.info({ endpoint: config.endpoint, service: config.serviceName, sample_ratio: config.sampleRatio }, 'tracing: exporting spans over OTLP/HTTP');
  return factory;
}

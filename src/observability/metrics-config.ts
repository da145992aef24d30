import { Type, type Static } from '@sinclair/typebox';
import { section } from '../config/types-common.js';

/** The top-level `metrics` section (Prometheus metrics on the admin listener, docs/metrics.md). */
export const MetricsConfigSchema = section(
  {
    maxConsumerLabels: Type.Integer({
      description:
        'Consumers that get their own `consumer` label value in portcullis_consumer_requests_total, first come first served; every further consumer is counted under "__other__". Bounds the series an attacker (or a large tenant base) can create; 0 counts every consumer as "__other__"',
      minimum: 0,
      maximum: 10_000,
      default: 100,
    }),
  },
  'Prometheus metrics served on the admin listener at /metrics',
);

export type MetricsConfig = Static<typeof MetricsConfigSchema>;

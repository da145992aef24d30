import { definePolicy } from '../../core/policy.js';
import { createConcurrencyLimitPolicy } from './policy.js';
import { ConcurrencyLimitSchema, type ConcurrencyLimitConfig } from './schema.js';

export const concurrencyLimitPolicy = definePolicy<ConcurrencyLimitConfig>({
  name: 'concurrency-limit',
  version: '1.0.0',
  phase: 'limit',
  description: 'Caps requests in flight per route, consumer or client IP; the slot is freed when the response ends (429 or 503 with Retry-After).',
  schema: ConcurrencyLimitSchema,
  supportsMonitor: true,
  defaultFailureMode: 'open',
  create: (config) => createConcurrencyLimitPolicy(config),
});

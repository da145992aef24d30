import { definePolicy } from '../../core/policy.js';
import { createRateLimitPolicy } from './policy.js';
import { RateLimitSchema, type RateLimitConfig } from './schema.js';

export const rateLimitPolicy = definePolicy<RateLimitConfig>({
  name: 'rate-limit',
  version: '1.0.0',
  phase: 'limit',
  description:
    'Rate limits (GCRA or sliding window) keyed by client IP, consumer, credential, route, header or claim, with per-consumer ' +
    'and per-plan overrides, and daily or monthly quotas kept in the Store; memory (cluster-wide through the primary) or Redis',
  schema: RateLimitSchema,
  supportsMonitor: true,
  // A limiter outage should not take the API down: open falls back to a local limiter with its share.
  defaultFailureMode: 'open',
  create: (config, deps) => createRateLimitPolicy(config, deps, 'rate-limit'),
});

import { definePolicy } from '../../core/policy.js';
import { createRateLimitPolicy } from '../rate-limit/policy.js';
import { IpRateLimitSchema, type IpRateLimitConfig } from './schema.js';

/**
 * The rate-limit engine in the first phase: keyed by client IP only (there is no identity yet), it
 * shields credential checks (password hashing, token introspection) from stuffing and floods. Its
 * counters are its own (`ip-rate-limit` scope), shared by every route.
 */
export const ipRateLimitPolicy = definePolicy<IpRateLimitConfig>({
  name: 'ip-rate-limit',
  version: '1.0.0',
  phase: 'onRequest',
  description: 'Per-client-IP rate limit before routing and authentication (GCRA or sliding window), memory or Redis',
  schema: IpRateLimitSchema,
  supportsMonitor: true,
  defaultFailureMode: 'open',
  create: (config, deps) =>
    createRateLimitPolicy(
      {
        limits: config.limits.map((l) => ({ ...l, key: ['ip'] })),
        overrides: [],
        headers: config.headers,
        ipv6Prefix: config.ipv6Prefix,
        instances: config.instances,
      },
      deps,
      'ip-rate-limit',
    ),
});

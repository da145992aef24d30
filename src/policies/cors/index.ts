import { definePolicy } from '../../core/policy.js';
import { createCorsPolicy } from './policy.js';
import { CorsSchema, type CorsConfig } from './schema.js';

export const corsPolicy = definePolicy<CorsConfig>({
  name: 'cors',
  version: '1.0.0',
  phase: 'onRequest',
  description:
    'Answers CORS preflights at the gateway, grants cross-origin read access to allowed origins only, and strips upstream CORS headers.',
  schema: CorsSchema,
  // A monitored preflight would reach the upstream and still fail in the browser (its CORS headers
  // are stripped for a foreign origin), so "monitor" would report a rollout that does not exist.
  supportsMonitor: false,
  defaultFailureMode: 'closed',
  create: (config) => createCorsPolicy(config),
});

import { definePolicy } from '../../core/policy.js';
import { createSecurityHeadersPolicy } from './policy.js';
import { SecurityHeadersSchema, type SecurityHeadersConfig } from './schema.js';

export const securityHeadersPolicy = definePolicy<SecurityHeadersConfig>({
  name: 'security-headers',
  version: '1.0.0',
  phase: 'onResponse',
  description: 'Adds HSTS, nosniff, framing, referrer, CSP and CORP headers to responses and removes fingerprinting headers.',
  schema: SecurityHeadersSchema,
  supportsMonitor: false,
  defaultFailureMode: 'closed',
  create: (config) => createSecurityHeadersPolicy(config),
});

import { definePolicy } from '../../core/policy.js';
import { createCsrfPolicy } from './policy.js';
import { CsrfSchema, type CsrfConfig } from './schema.js';

export const csrfPolicy = definePolicy<CsrfConfig>({
  name: 'csrf',
  version: '1.0.0',
  phase: 'inspect',
  description:
    'Cross-site request forgery protection for cookie-authenticated routes: Origin / Sec-Fetch-Site / Referer checks and an ' +
    'optional double-submit token on state-changing methods; safe methods are exempt.',
  schema: CsrfSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  create: (config) => createCsrfPolicy(config),
});

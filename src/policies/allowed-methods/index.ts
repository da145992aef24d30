import { definePolicy } from '../../core/policy.js';
import { createAllowedMethodsPolicy } from './policy.js';
import { AllowedMethodsSchema, type AllowedMethodsConfig } from './schema.js';

export const allowedMethodsPolicy = definePolicy<AllowedMethodsConfig>({
  name: 'allowed-methods',
  version: '1.0.0',
  phase: 'onRequest',
  description: 'Answers 405 with an Allow header for methods the route does not accept.',
  schema: AllowedMethodsSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  create: (config) => createAllowedMethodsPolicy(config),
});

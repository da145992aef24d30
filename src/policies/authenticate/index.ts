import { definePolicy } from '../../core/policy.js';
import { createAuthenticatePolicy } from './policy.js';
import { AuthenticateSchema, type AuthenticateConfig } from './schema.js';

export const authenticatePolicy = definePolicy<AuthenticateConfig>({
  name: 'authenticate',
  version: '1.0.0',
  phase: 'authenticate',
  description: 'Verifies who is calling with one or more methods (JWT; API keys and more to come), combined with any or all.',
  schema: AuthenticateSchema,
  // A monitored authentication would let unauthenticated requests through: refused at load.
  supportsMonitor: false,
  defaultFailureMode: 'closed',
  create: (config, deps) => createAuthenticatePolicy(config, deps),
});

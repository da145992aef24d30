import { definePolicy } from '../../core/policy.js';
import { createOpenApiPolicy } from './policy.js';
import { OpenApiSchema, type OpenApiConfig } from './schema.js';

export const openApiPolicy = definePolicy<OpenApiConfig>({
  name: 'openapi',
  version: '1.0.0',
  phase: 'inspect',
  description:
    'OpenAPI 3.0/3.1 positive security model: undeclared paths 404 and methods 405; parameters, content types and ' +
    'bodies validated; responses validated, filtered of undeclared and writeOnly properties, and scanned for sensitive data.',
  schema: OpenApiSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  create: (config, deps) => createOpenApiPolicy(config, deps),
});

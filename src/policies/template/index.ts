import { definePolicy } from '../../core/policy.js';
import { createTemplatePolicy } from './policy.js';
import { TemplateSchema, type TemplateConfig } from './schema.js';

export const templatePolicy = definePolicy<TemplateConfig>({
  name: 'template',
  version: '1.0.0',
  phase: 'inspect',
  description: 'The model for new policies: denies requests carrying a header and stamps a response header.',
  schema: TemplateSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  create: (config) => createTemplatePolicy(config),
});

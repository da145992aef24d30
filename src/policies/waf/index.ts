import { definePolicy } from '../../core/policy.js';
import { createWafPolicy } from './policy.js';
import { WafSchema, type WafConfig } from './schema.js';

export const wafPolicy = definePolicy<WafConfig>({
  name: 'waf',
  version: '1.0.0',
  phase: 'inspect',
  description: 'Web application firewall: runs the OWASP Core Rule Set (anomaly scoring, paranoia levels, exclusions) on each request.',
  schema: WafSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  create: (config, deps) => createWafPolicy(config, deps),
});

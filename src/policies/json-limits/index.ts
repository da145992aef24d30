import { definePolicy } from '../../core/policy.js';
import { createJsonLimitsPolicy } from './policy.js';
import { JsonLimitsSchema, type JsonLimitsConfig } from './schema.js';

export const jsonLimitsPolicy = definePolicy<JsonLimitsConfig>({
  name: 'json-limits',
  version: '1.0.0',
  phase: 'inspect',
  description:
    'Refuses hostile JSON request bodies before parsing: nesting depth, keys per object, string and array lengths, ' +
    'size, duplicate keys and prototype-polluting keys. Attach globally so routes without an OpenAPI description are covered.',
  schema: JsonLimitsSchema,
  supportsMonitor: true,
  defaultFailureMode: 'closed',
  create: (config) => createJsonLimitsPolicy(config),
});

import { definePolicy } from '../../core/policy.js';
import { createRequestSizeLimitPolicy } from './policy.js';
import { RequestSizeLimitSchema, type RequestSizeLimitConfig } from './schema.js';

export const requestSizeLimitPolicy = definePolicy<RequestSizeLimitConfig>({
  name: 'request-size-limit',
  version: '1.0.0',
  phase: 'onRequest',
  description: 'Refuses request bodies, targets and header sections larger than the configured limits (413, 414, 431).',
  schema: RequestSizeLimitSchema,
  supportsMonitor: false,
  defaultFailureMode: 'closed',
  create: (config) => createRequestSizeLimitPolicy(config),
});

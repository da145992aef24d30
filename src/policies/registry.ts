import type { AnyPolicyDescriptor } from '../core/policy.js';
import { allowedMethodsPolicy } from './allowed-methods/index.js';
import { corsPolicy } from './cors/index.js';
import { ipRestrictionPolicy } from './ip-restriction/index.js';
import { requestSizeLimitPolicy } from './request-size-limit/index.js';
import { securityHeadersPolicy } from './security-headers/index.js';
import { templatePolicy } from './template/index.js';
import { authenticatePolicy } from './authenticate/index.js';
import { concurrencyLimitPolicy } from './concurrency-limit/index.js';
import { authorizePolicy } from './authorize/index.js';
import { ipRateLimitPolicy } from './ip-rate-limit/index.js';
import { rateLimitPolicy } from './rate-limit/index.js';
import { jsonLimitsPolicy } from './json-limits/index.js';
import { openApiPolicy } from './openapi/index.js';
import { csrfPolicy } from './csrf/index.js';
import { anomalyDetectionPolicy } from './anomaly-detection/index.js';
import { wafPolicy } from './waf/index.js';

/**
 * Every built-in policy, listed explicitly: no discovery, no side-effect imports. The order here
 * is only the order of `portcullis schema` output; execution order comes from phases.
 */
export const BUILTIN_POLICIES: readonly AnyPolicyDescriptor[] = Object.freeze([
  templatePolicy,
  ipRestrictionPolicy,
  requestSizeLimitPolicy,
  allowedMethodsPolicy,
  corsPolicy,
  securityHeadersPolicy,
  authenticatePolicy,
  concurrencyLimitPolicy,
  authorizePolicy,
  ipRateLimitPolicy,
  rateLimitPolicy,
  jsonLimitsPolicy,
  openApiPolicy,
  csrfPolicy,
  anomalyDetectionPolicy,
  wafPolicy,
]);

export type PolicyRegistry = ReadonlyMap<string, AnyPolicyDescriptor>;

export function createRegistry(descriptors: readonly AnyPolicyDescriptor[] = BUILTIN_POLICIES): PolicyRegistry {
  const map = new Map<string, AnyPolicyDescriptor>();
  for (const d of descriptors) {
    if (map.has(d.name)) throw new Error(`policy "${d.name}" registered twice`);
    map.set(d.name, d);
  }
  return map;
}

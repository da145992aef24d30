import { Type } from '@sinclair/typebox';
import { definePolicy } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';

/**
 * Not in the registry and not attachable from config: the config loader adds it, under
 * `authorization.default: deny`, to every route that has no `authorize` policy and to the chain
 * for unmatched requests. So a route that forgets its authorization is refused, not opened.
 */
export const defaultDenyPolicy = definePolicy<Record<string, never>>({
  name: 'default-deny',
  version: '1.0.0',
  phase: 'authorize',
  description: 'Refuses every request (authorization.default: deny on a route without an authorize policy).',
  schema: Type.Object({}, { additionalProperties: false }),
  supportsMonitor: false,
  defaultFailureMode: 'closed',
  create: (_config, deps) => {
    const reason =
      deps.routeName === '*' ? 'authorization.default is deny: no route matched' : `authorization.default is deny: route ${deps.routeName} has no authorize policy`;
    return {
      handle() {
        throw new GatewayError('GW_AUTHZ_DENIED', { reason });
      },
    };
  },
});

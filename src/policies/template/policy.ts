import { GatewayError } from '../../errors/index.js';
import type { PolicyInstance } from '../../core/policy.js';
import type { TemplateConfig } from './schema.js';

/** Everything is decided in `create`; `handle` only reads what was compiled. */
export function createTemplatePolicy(config: TemplateConfig): PolicyInstance {
  const { denyHeader, responseHeader, responseValue } = config;
  return {
    handle:
      denyHeader === undefined
        ? undefined
        : (ctx) => {
            if (ctx.req.headers[denyHeader] !== undefined) {
              throw new GatewayError('GW_FORBIDDEN', { reason: `template: header ${denyHeader} present` });
            }
          },
    onResponse(_ctx, head) {
      head.set(responseHeader, responseValue);
    },
  };
}

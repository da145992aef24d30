import { GatewayError } from '../../errors/index.js';
import type { RequestContext } from '../../core/context.js';
import type { PolicyInstance } from '../../core/policy.js';
import type { AllowedMethodsConfig } from './schema.js';

/** A CORS preflight as the Fetch standard defines it: OPTIONS carrying Origin and Access-Control-Request-Method. */
function isCorsPreflight(ctx: RequestContext): boolean {
  return (
    ctx.method === 'OPTIONS' &&
    ctx.req.headers['origin'] !== undefined &&
    ctx.req.headers['access-control-request-method'] !== undefined
  );
}

export function createAllowedMethodsPolicy(config: AllowedMethodsConfig): PolicyInstance {
  const methods: string[] = [...config.methods];
  if (config.implicitHead && methods.includes('GET') && !methods.includes('HEAD')) methods.splice(methods.indexOf('GET') + 1, 0, 'HEAD');
  // Methods are compared exactly: RFC 9110 section 9.1 makes them case-sensitive, so "get" is not GET.
  const allowed = new Set(methods);
  // RFC 9110 section 15.5.6: a 405 MUST carry Allow with the target's supported methods.
  const allowHeader = methods.join(', ');
  const allowPreflight = config.allowPreflight;

  return {
    handle(ctx) {
      if (allowed.has(ctx.method)) return;
      if (allowPreflight && isCorsPreflight(ctx)) return;
      throw new GatewayError('GW_METHOD_NOT_ALLOWED', {
        reason: `allowed-methods: ${JSON.stringify(ctx.method.slice(0, 32))} is not one of ${allowHeader}`,
        detail: `This route accepts ${allowHeader}.`,
        // A fresh object per denial: the edge may add to it while rendering.
        headers: { allow: allowHeader },
      });
    },
  };
}

import type { PolicyInstance } from '../../core/policy.js';
import type { RequestContext } from '../../core/context.js';
import type { JsonLimits } from '../../core/json-scan.js';
import { hasBody, isJsonContentType, jsonBody } from '../../core/request-body.js';
import { parseByteSize } from '../../config/units.js';
import type { JsonLimitsConfig } from './schema.js';

/** The structure limits and byte cap of a validated `json-limits`-shaped config, frozen. */
export function compileJsonLimits(config: JsonLimitsConfig): { readonly limits: JsonLimits; readonly maxBytes: number } {
  const { maxDepth, maxKeys, maxStringLength, maxArrayLength } = config;
  return Object.freeze({ limits: Object.freeze({ maxDepth, maxKeys, maxStringLength, maxArrayLength }), maxBytes: parseByteSize(config.maxBytes) });
}

/**
 * Reads and checks every JSON request body of the route, so the limits hold even where no other
 * policy would parse it (routes without an OpenAPI description). Bodies that are not declared JSON
 * keep streaming untouched; JSON bodies are buffered once (the price of looking at them) and the
 * parse is shared with later policies through `ctx.parsedBody`.
 */
export function createJsonLimitsPolicy(config: JsonLimitsConfig): PolicyInstance {
  const { limits, maxBytes } = compileJsonLimits(config);
  return {
    handle(ctx: RequestContext): Promise<void> | void {
      if (ctx.parsedBody !== undefined || !isJsonContentType(ctx.header('content-type')) || !hasBody(ctx)) return;
      return jsonBody(ctx, maxBytes, 'json-limits', limits).then(() => undefined);
    },
  };
}

import { parseByteSize } from '../../config/units.js';
import { GatewayError } from '../../errors/index.js';
import type { RequestContext } from '../../core/context.js';
import type { PolicyInstance } from '../../core/policy.js';
import type { RequestSizeLimitConfig } from './schema.js';

const DIGITS = /^[0-9]+$/;

/**
 * Node decodes the request line and header bytes as latin1, one character per byte, so string
 * lengths here are the byte counts on the wire.
 */
function headerBytes(rawHeaders: readonly string[]): number {
  let total = 0;
  for (let i = 0; i < rawHeaders.length; i++) total += rawHeaders[i]!.length;
  return total;
}

export function createRequestSizeLimitPolicy(config: RequestSizeLimitConfig): PolicyInstance {
  const maxBody = parseByteSize(config.maxBodyBytes);
  const maxUri = parseByteSize(config.maxUriBytes);
  const maxHeaders = config.maxHeaderBytes === undefined ? undefined : parseByteSize(config.maxHeaderBytes);

  return {
    handle(ctx: RequestContext) {
      const uriLength = ctx.req.url?.length ?? 0;
      // RFC 9110 section 15.5.15: 414 when the target is longer than the server will interpret.
      if (uriLength > maxUri) {
        throw new GatewayError('GW_URI_TOO_LONG', {
          reason: `request-size-limit: target is ${uriLength} bytes, limit ${maxUri}`,
          detail: `The request target may be at most ${maxUri} bytes.`,
        });
      }
      if (maxHeaders !== undefined) {
        const size = headerBytes(ctx.req.rawHeaders);
        // RFC 6585 section 5: 431 when the header fields, taken together, are too large.
        if (size > maxHeaders) {
          throw new GatewayError('GW_HEADERS_TOO_LARGE', {
            reason: `request-size-limit: headers are ${size} bytes, limit ${maxHeaders}`,
            detail: `The request headers may total at most ${maxHeaders} bytes.`,
          });
        }
      }
      const declared = ctx.header('content-length');
      // A declared length over the limit is refused before a byte of the body is read (RFC 9110
      // section 15.5.14). A malformed one never gets here: the parser and listener reject it, and
      // the forwarder still counts the body against `maxBodyBytes` below.
      if (declared !== undefined && DIGITS.test(declared)) {
        const length = Number(declared);
        if (length > maxBody) {
          throw new GatewayError('GW_REQUEST_TOO_LARGE', {
            reason: `request-size-limit: Content-Length ${declared} exceeds ${maxBody}`,
            detail: `The request body may be at most ${maxBody} bytes.`,
          });
        }
      }
      // Chunked bodies declare nothing; the forwarder counts what streams in and answers 413 past this.
      ctx.maxBodyBytes = maxBody;
    },
  };
}

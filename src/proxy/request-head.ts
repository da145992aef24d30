import { GatewayError } from '../errors/index.js';

/**
 * Request headers never forwarded: hop-by-hop (RFC 9110 section 7.6.1) plus the ones this gateway
 * rewrites itself (Host, the forwarding headers, W3C trace context) and `expect` (answered here;
 * undici refuses it).
 */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'traceparent',
  'tracestate',
]);

/** What one pass over the raw headers learned, besides the list to forward. */
export interface ScannedHead {
  /** Flat [name, value, ...] for the upstream, names lower-cased, dropped headers removed. */
  forward: string[];
  forwardedFor: string | undefined;
  forwarded: string | undefined;
  incomingRequestId: string | undefined;
  hasBody: boolean;
  contentLength: number | undefined;
}

/**
 * Reads the raw headers once: refuses ambiguous framing (request smuggling: RFC 9112 sections 6.1
 * and 6.3, which say a server MAY reject what we reject unconditionally) and builds the upstream
 * header list. Throws GW_REQUEST_AMBIGUOUS.
 */
export function scanRequestHead(rawHeaders: readonly string[], requestIdHeader: string): ScannedHead {
  const forward: string[] = [];
  let hosts = 0;
  let contentLengths = 0;
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  let transferEncodings = 0;
  let connectionTokens: string | undefined;
  let forwardedFor: string | undefined;
  let forwarded: string | undefined;
  let incomingRequestId: string | undefined;

  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (DROPPED.has(name)) {
      switch (name) {
        case 'host':
          hosts++;
          break;
        case 'transfer-encoding':
          transferEncodings++;
          transferEncoding = value;
          break;
        case 'connection':
          connectionTokens = connectionTokens === undefined ? value : `${connectionTokens},${value}`;
          break;
        case 'x-forwarded-for':
          forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
          break;
        case 'forwarded':
          forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
          break;
      }
      continue;
    }
    if (name === 'content-length') {
      contentLengths++;
      contentLength = /^[0-9]{1,15}$/.test(value) ? Number(value) : -1;
    } else if (name === requestIdHeader) {
      incomingRequestId = value;
      continue;
    }
    forward.push(name, value);
  }

  if (hosts > 1) throw ambiguous('more than one Host header');
  if (contentLengths > 1) throw ambiguous('more than one Content-Length header');
  if (contentLength === -1) throw ambiguous('invalid Content-Length');
  if (transferEncodings > 0) {
    if (transferEncodings > 1 || transferEncoding !== 'chunked') throw ambiguous(`Transfer-Encoding other than exactly "chunked"`);
    if (contentLengths > 0) throw ambiguous('both Transfer-Encoding and Content-Length');
  }
  const out = connectionTokens === undefined ? forward : dropConnectionListed(forward, connectionTokens);
  return {
    forward: out,
    forwardedFor,
    forwarded,
    incomingRequestId,
    hasBody: transferEncodings > 0 || (contentLength !== undefined && contentLength > 0),
    contentLength,
  };
}

/** Headers named in Connection are hop-by-hop too (RFC 9110 section 7.6.1). */
function dropConnectionListed(headers: string[], tokens: string): string[] {
  const listed = new Set(tokens.toLowerCase().split(',').map((t) => t.trim()));
  listed.delete('close');
  listed.delete('keep-alive');
  if (listed.size === 0) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!listed.has(headers[i]!)) out.push(headers[i]!, headers[i + 1]!);
  return out;
}

function ambiguous(reason: string): GatewayError {
  return new GatewayError('GW_REQUEST_AMBIGUOUS', { reason, detail: 'The request framing is ambiguous.' });
}

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export function acceptableRequestId(value: string | undefined): value is string {
  return value !== undefined && REQUEST_ID.test(value);
}

import type { WafRequest, WafResponse } from '../request.js';
import type { FtwInput } from './cases.js';

function hasHeader(headers: readonly (readonly [string, string])[], name: string): boolean {
  return headers.some(([k]) => k.toLowerCase() === name);
}

/** A raw HTTP/1.x request (go-ftw `encoded_request`, base64) into its parts; bytes stay latin1. */
function parseRaw(raw: string): WafRequest {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const [line = '', ...lines] = head.split('\r\n');
  const [method = 'GET', uri = '/', protocol = 'HTTP/1.1'] = line.split(' ');
  const headers: [string, string][] = [];
  for (const l of lines) {
    const colon = l.indexOf(':');
    if (colon === -1) continue;
    headers.push([l.slice(0, colon), l.slice(colon + 1).trim()]);
  }
  return { method, uri, protocol, headers, body: body === '' ? undefined : Buffer.from(body, 'latin1'), remoteAddr: '127.0.0.1' };
}

/** Header values in the YAML are text; on the wire go-ftw sends their UTF-8 bytes. */
const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/**
 * The request go-ftw would send for a stage. With `autocomplete_headers` (the default) go-ftw adds
 * Content-Length for a body and `Connection: close`; a body without a Content-Type is sent as a form.
 */
export function buildFtwRequest(input: FtwInput): WafRequest {
  if (input.encoded_request !== undefined) return parseRaw(Buffer.from(input.encoded_request, 'base64').toString('latin1'));
  const headers: [string, string][] = Object.entries(input.headers ?? {}).map(([k, v]) => [k, bytes(String(v))]);
  const data = input.data === undefined ? undefined : Buffer.from(input.data, 'utf8');
  if (input.autocomplete_headers !== false) {
    if (data !== undefined && data.length > 0 && !hasHeader(headers, 'content-length')) headers.push(['Content-Length', String(data.length)]);
    if (!hasHeader(headers, 'connection')) headers.push(['Connection', 'close']);
  }
  return {
    method: input.method ?? 'GET',
    uri: bytes(input.uri ?? '/'),
    protocol: input.version ?? 'HTTP/1.1',
    headers,
    body: data,
    remoteAddr: '127.0.0.1',
    serverPort: input.port ?? 80,
  };
}

/**
 * The response the CRS test backend (albedo) gives: `/reflect` answers with the status, headers
 * and body described in the JSON request body; anything else is a small 200 page.
 */
export function buildFtwResponse(req: WafRequest): WafResponse {
  const plain: WafResponse = { status: 200, protocol: 'HTTP/1.1', headers: [['Content-Type', 'text/html']], body: Buffer.from('<html><body>ok</body></html>') };
  if (!req.uri.startsWith('/reflect') || req.body === undefined) return plain;
  try {
    const spec = JSON.parse(req.body.toString('utf8')) as { status?: number; headers?: Record<string, string>; body?: string; encodedBody?: string };
    const body = spec.encodedBody !== undefined ? Buffer.from(spec.encodedBody, 'base64') : Buffer.from(spec.body ?? '', 'utf8');
    const headers = Object.entries(spec.headers ?? {}).map(([k, v]) => [k, String(v)] as const);
    return { status: spec.status ?? 200, protocol: 'HTTP/1.1', headers: headers.length > 0 ? headers : plain.headers, body };
  } catch {
    return plain;
  }
}

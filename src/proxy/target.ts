import { GatewayError } from '../errors/index.js';

export interface RequestTarget {
  /** Path as sent, before normalisation. */
  rawPath: string;
  /** Query without `?`, or ''. */
  query: string;
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/;

/** Lower-case host name without port; throws GW_HEADER_INVALID for anything that is not host[:port]. */
export function parseHost(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  if (!HOST.test(value)) throw new GatewayError('GW_HEADER_INVALID', { reason: 'invalid Host header', detail: 'The Host header is invalid.' });
  const end = value.startsWith('[') ? value.indexOf(']') + 1 : value.indexOf(':');
  return (end <= 0 ? value : value.slice(0, end)).toLowerCase();
}

/**
 * Splits the request target (RFC 9112 section 3.2). Origin form is the norm; absolute form is
 * accepted only when its authority equals the Host header, since a proxy that routes on one and
 * forwards the other can be steered to a host the client was not allowed to reach.
 */
export function parseTarget(url: string, hostHeader: string | undefined): RequestTarget {
  // A fragment never belongs in a request target (RFC 9112 section 3.2): an upstream could read it
  // as part of the path or the query, and the gateway would have checked something else.
  if (url.includes('#')) throw new GatewayError('GW_BAD_REQUEST', { reason: 'fragment in the request target', detail: 'The request target is invalid.' });
  let pathAndQuery = url;
  if (url.charCodeAt(0) !== 47 /* / */) {
    if (url === '*') return { rawPath: '*', query: '' };
    const match = /^https?:\/\/([^/?#]*)([^#]*)$/i.exec(url);
    if (match === null) throw new GatewayError('GW_REQUEST_AMBIGUOUS', { reason: 'unsupported request-target form', detail: 'The request target is not supported.' });
    if (hostHeader === undefined || match[1]!.toLowerCase() !== hostHeader.toLowerCase()) {
      throw new GatewayError('GW_REQUEST_AMBIGUOUS', { reason: 'absolute-form target disagrees with Host', detail: 'The request target and Host header disagree.' });
    }
    pathAndQuery = match[2] === '' ? '/' : match[2]!;
    if (pathAndQuery.charCodeAt(0) !== 47) pathAndQuery = '/' + pathAndQuery;
  }
  const q = pathAndQuery.indexOf('?');
  return q === -1 ? { rawPath: pathAndQuery, query: '' } : { rawPath: pathAndQuery.slice(0, q), query: pathAndQuery.slice(q + 1) };
}

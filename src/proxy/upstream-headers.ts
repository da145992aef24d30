import type { RequestContext } from '../core/context.js';
import { upstreamTraceparent } from '../observability/tracing/propagation.js';
import type { ScannedHead } from './request-head.js';
import type { CompiledRoute } from './runtime.js';

/**
 * The header list sent upstream: the client's end-to-end headers, Host, the forwarding headers
 * (RFC 7239 `Forwarded` and the X-Forwarded-* trio, extended only when the peer is a trusted
 * proxy, rebuilt otherwise), the request id, W3C trace context (docs/tracing.md), and whatever
 * policies added (identity headers), whose incoming copies are removed so a client cannot inject them.
 */
export function buildUpstreamHeaders(ctx: RequestContext, scan: ScannedHead, route: CompiledRoute, targetHost: string, requestIdHeader: string): string[] {
  let headers = scan.forward;
  const added = ctx.upstreamHeaders;
  if (added !== undefined) {
    const filtered: string[] = [];
    for (let i = 0; i < headers.length; i += 2) if (added[headers[i]!] === undefined) filtered.push(headers[i]!, headers[i + 1]!);
    headers = filtered;
    for (const name in added) {
      const value = added[name];
      if (value !== null && value !== undefined) headers.push(name, value);
    }
  }
  const clientHost = ctx.req.headers.host ?? '';
  headers.push('host', route.preserveHost && clientHost !== '' ? clientHost : targetHost);
  const peer = ctx.remoteAddress;
  const trusted = ctx.fromTrustedProxy;
  const xff = trusted && scan.forwardedFor !== undefined ? `${scan.forwardedFor}, ${peer}` : peer;
  headers.push('x-forwarded-for', xff);
  headers.push('x-forwarded-proto', trusted ? (ctx.req.headers['x-forwarded-proto'] as string | undefined) ?? ctx.protocol : ctx.protocol);
  if (clientHost !== '') headers.push('x-forwarded-host', trusted ? (ctx.req.headers['x-forwarded-host'] as string | undefined) ?? clientHost : clientHost);
  const element = `for=${forwardedNode(peer)};proto=${ctx.protocol}${clientHost === '' ? '' : `;host="${clientHost}"`}`;
  headers.push('forwarded', trusted && scan.forwarded !== undefined ? `${scan.forwarded}, ${element}` : element);
  headers.push(requestIdHeader, ctx.requestId);
  // With spans, ForwardCall replaces the span id with each attempt's CLIENT span (traceparentIndex).
  if (ctx.traceId !== '') {
    headers.push('traceparent', upstreamTraceparent(ctx));
    if (ctx.traceState !== undefined) headers.push('tracestate', ctx.traceState);
  }
  return headers;
}

/** The value index of an entry `buildUpstreamHeaders` appended (the last of that name), searched among names only. */
export function lastValueIndex(headers: readonly string[], name: string): number {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i] === name) return i + 1;
  return -1;
}

/** RFC 7239 section 6: IPv6 nodes are bracketed and quoted. */
function forwardedNode(ip: string): string {
  return ip.includes(':') ? `"[${ip}]"` : ip;
}

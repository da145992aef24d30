import type { FtwCase } from './cases.js';

/**
 * Cases this engine does not run, each with the reason. Kept short on purpose: every entry is a
 * known gap to close, not a way to raise the pass rate.
 */
const SKIPPED: Record<string, string> = {
  '920181-1':
    'server-dependent: Content-Length together with Transfer-Encoding; the gateway refuses such a request before any policy (GW_REQUEST_AMBIGUOUS, request smuggling)',
  '920620-1': 'server-dependent: the test expects Apache httpd, which joins duplicate Content-Type headers; the rule matches on servers that keep both',
  '920640-5': 'server-dependent: an HTTP/1.1 body without Content-Length or chunked framing is not a body; the test itself says it needs HTTP/2 in go-ftw',
  '921140-1': 'server-dependent: a bare CR inside a header value; the gateway refuses the header before any policy (GW_HEADER_INVALID)',
};

export function skipReason(c: FtwCase): string | undefined {
  const listed = SKIPPED[c.name];
  if (listed !== undefined) return listed;
  if (c.stages.length === 0) return 'the case has no stage';
  return undefined;
}

/** A case that checks no log, only the HTTP status or a transport error: the server's answer (gateway-stage.ts). */
export function checksServerOnly(c: FtwCase): boolean {
  return c.stages.every((s) => s.output.log === undefined);
}

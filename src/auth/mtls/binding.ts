import { timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../core/context.js';
import { peerCertificate } from './peer.js';

/** base64url of 32 bytes, no padding: 43 characters (RFC 8705 section 3.1, RFC 7515 section 2). */
const THUMBPRINT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * RFC 8705 section 3: certificate-bound access tokens. A token whose confirmation claim carries
 * `x5t#S256` (section 3.1: base64url SHA-256 of the DER client certificate) is only good over a TLS
 * connection whose verified client certificate has that thumbprint; anything else, including no
 * certificate or plain HTTP, is refused ("MUST ... reject", answered 401 invalid_token as section 3
 * asks). With `required`, a token without `x5t#S256` is refused too, so a bearer token stolen from a
 * client that should use bound tokens cannot be replayed as a plain bearer token. Returns the reason
 * to refuse, for the log, or undefined when the request may go on. The thumbprint is compared in
 * constant time.
 */
export function certificateBindingProblem(ctx: RequestContext, claims: Readonly<Record<string, unknown>>, required: boolean): string | undefined {
  const cnf = claims.cnf;
  const expected = typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf) ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
  if (cnf !== undefined && (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))) return 'cnf claim is not a JSON object (RFC 7800 section 3.1)';
  if (expected === undefined) return required ? 'token is not certificate-bound (no cnf x5t#S256) but binding is required (RFC 8705 section 3)' : undefined;
  if (typeof expected !== 'string' || !THUMBPRINT.test(expected)) return 'cnf x5t#S256 is not a base64url SHA-256 thumbprint (RFC 8705 section 3.1)';
  const peer = peerCertificate(ctx);
  if (peer.kind === 'none') return `certificate-bound token presented without a client certificate (${peer.reason}; RFC 8705 section 3)`;
  if (peer.kind === 'unverified') return `certificate-bound token presented with a client certificate that ${peer.reason.replace(/^client certificate /, '')}`;
  const presented = peer.certificate.thumbprint;
  const bound = Buffer.from(expected, 'base64url');
  if (bound.length !== presented.length || !timingSafeEqual(bound, presented)) {
    return `certificate-bound token presented with another client certificate (SHA-256 ${peer.certificate.info.fingerprint256}; RFC 8705 section 3)`;
  }
  return undefined;
}

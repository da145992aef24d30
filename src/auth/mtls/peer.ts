import { createHash, type X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { ClientCertificateInfo, RequestContext } from '../../core/context.js';
import { dnKey, nodeNameToRfc4514, parseSubjectAltName } from './names.js';

/** A verified client certificate, with what the mappings and RFC 8705 need precomputed. */
export interface PeerCertificate {
  readonly info: ClientCertificateInfo;
  /** SHA-256 of the DER certificate: the RFC 8705 section 3.1 `x5t#S256` thumbprint, raw. */
  readonly thumbprint: Buffer;
  /** The same, as 64 lower-case hex digits. */
  readonly fingerprintHex: string;
  readonly subjectKey: string;
  readonly issuerKey: string;
}

export type PeerCertificateState =
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'unverified'; readonly reason: string }
  | { readonly kind: 'verified'; readonly certificate: PeerCertificate };

const PLAIN_HTTP: PeerCertificateState = Object.freeze({ kind: 'none', reason: 'plain HTTP, no TLS' });
const NO_CERTIFICATE: PeerCertificateState = Object.freeze({ kind: 'none', reason: 'no client certificate' });

/** One answer per TLS connection: the certificate cannot change on it (renegotiation is off, listeners.ts). */
const bySocket = new WeakMap<TLSSocket, PeerCertificateState>();

/**
 * The client certificate of this request's connection, read from the TLS layer only (RFC 8705
 * section 3: "obtained from the TLS implementation layer"), never from a header. A certificate is
 * `verified` only when OpenSSL verified it against the listener's CAs (`socket.authorized`); with
 * `clientCertificates.mode: optional` an unverified one still reaches us and must not be trusted.
 */
export function peerCertificate(ctx: RequestContext): PeerCertificateState {
  const socket = ctx.req.socket;
  if (!(socket instanceof TLSSocket)) return PLAIN_HTTP;
  let state = bySocket.get(socket);
  if (state === undefined) {
    state = readPeer(socket);
    bySocket.set(socket, state);
  }
  return state;
}

function readPeer(socket: TLSSocket): PeerCertificateState {
  const x509 = socket.getPeerX509Certificate();
  if (x509 === undefined) return NO_CERTIFICATE;
  if (!socket.authorized) {
    const error = socket.authorizationError as Error | string | null | undefined;
    return { kind: 'unverified', reason: `client certificate did not verify (${error instanceof Error ? error.message : String(error ?? 'unknown')})` };
  }
  try {
    return { kind: 'verified', certificate: describeCertificate(x509) };
  } catch (error) {
    // A name we cannot read is a name we cannot match: fail closed, never as a server error.
    return { kind: 'unverified', reason: `client certificate could not be read (${(error as Error).message})` };
  }
}

export function describeCertificate(x509: X509Certificate): PeerCertificate {
  const thumbprint = createHash('sha256').update(x509.raw).digest();
  const subject = nodeNameToRfc4514(x509.subject);
  const issuer = nodeNameToRfc4514(x509.issuer);
  const info: ClientCertificateInfo = Object.freeze({
    subject,
    issuer,
    san: Object.freeze(parseSubjectAltName(x509.subjectAltName)),
    fingerprint256: x509.fingerprint256,
    serialNumber: x509.serialNumber,
    validTo: new Date(x509.validTo).toISOString(),
  });
  return { info, thumbprint, fingerprintHex: thumbprint.toString('hex'), subjectKey: dnKey(subject), issuerKey: dnKey(issuer) };
}

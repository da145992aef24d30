import type { Logger } from 'pino';
import { JwtVerifier } from '../jwt/verifier.js';
import type { JwtMethodConfig } from '../jwt/schema.js';

export interface JwtResponseOptions {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Our client id: the response's `aud` (RFC 9701 §5). */
  readonly clientId: string;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * A verifier for RFC 9701 signed introspection responses, built from the JWT method's own verifier
 * so every RFC 8725 rule applies here too (asymmetric allow list, no `none`, no `jku`/`x5u`/`jwk`,
 * no unknown `crit`, `kid` lookup only, JWKS cached with bounded re-fetch). On top:
 * - `typ` must be `token-introspection+jwt` (RFC 9701 §5, RFC 8725 §3.11: explicit typing keeps an
 *   access token or ID token from being replayed as an introspection answer);
 * - `iss` must be the configured issuer (RFC 9701 §5, RFC 8725 §3.8);
 * - `aud` must name our client id (RFC 9701 §5, RFC 8725 §3.9), and `iat` is required.
 */
export function jwtResponseVerifier(options: JwtResponseOptions): JwtVerifier {
  const config: JwtMethodConfig = {
    issuers: [{ issuer: options.issuer, audiences: [options.clientId], algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'], jwksUri: options.jwksUri, requireCertificateBinding: false }],
    clockSkew: '30s',
    requiredClaims: ['iat'],
    requireType: 'token-introspection+jwt',
    maxTokenBytes: '64kb',
    cache: { maxEntries: 0, ttl: '0s' },
    jwks: { refreshInterval: '10m', minRefetchInterval: '30s', timeout: '5s' },
    header: 'authorization',
    scopeClaim: 'scope',
    subjectClaim: 'sub',
  };
  return new JwtVerifier(config, { now: options.now, logger: options.logger });
}

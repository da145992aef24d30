import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Principal, RequestContext } from '../../core/context.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { parseDuration } from '../../config/units.js';
import { NOT_APPLICABLE, type AuthResult, type Authenticator } from '../authenticator.js';
import { certificateBindingProblem } from '../mtls/binding.js';
import { readScopes } from './claims.js';
import type { JwtMethodConfig } from './schema.js';
import { VerifiedTokenCache } from './verified-cache.js';
import { JwtVerifier, type VerifyResult } from './verifier.js';

export interface JwtDeps {
  readonly logger: Logger;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  readonly now: () => number;
  readonly metrics?: GatewayMetrics;
}

/** The authenticator plus what tests and the bench look at. */
export interface JwtAuthenticator extends Authenticator {
  readonly verifier: JwtVerifier;
  readonly cache: VerifiedTokenCache;
  close(): void;
}

/** RFC 6750 §2.1: `Bearer` (case-insensitive scheme), one or more spaces, the b64token. */
const BEARER = /^bearer +(\S+) *$/i;

/**
 * JWT bearer authentication (RFC 6750, RFC 7519, RFC 8725, RFC 9068). No `Bearer` credential in the
 * configured header: not applicable. A Bearer token failing any check: rejected, with the precise
 * reason for the log. Valid: a Principal with method `jwt`. Config is compiled here, at load; JWKS
 * are fetched on first use.
 */
export function createJwtAuthenticator(config: JwtMethodConfig, deps: JwtDeps): JwtAuthenticator {
  const counters = jwtCounters(deps.metrics?.registry);
  const verifier = new JwtVerifier(config, {
    now: deps.now,
    logger: deps.logger,
    onJwksFetch: (_issuer, outcome) => counters?.jwks.labels(outcome).inc(),
  });
  const cache = new VerifiedTokenCache(config.cache.maxEntries, parseDuration(config.cache.ttl));
  const maxBytes = verifier.compiled.maxTokenBytes;
  const { header, scopeClaim, subjectClaim } = config;
  const hit = counters?.cache.labels('hit');
  const miss = counters?.cache.labels('miss');

  const issuers = verifier.compiled.issuers;
  /**
   * RFC 8705 §3, on every request, cached token or not: the cache says the token is genuine, only
   * this connection's client certificate can say the caller holds the key it is bound to.
   */
  const bound = (ctx: RequestContext, hash: string, principal: Principal): AuthResult => {
    const claims = principal.claims!;
    const required = issuers.get(claims.iss as string)?.requireCertificateBinding ?? true;
    const problem = certificateBindingProblem(ctx, claims, required);
    // No credentialId: the token itself is genuine, and counting it would let whoever stole it lock
    // its rightful holder out (brute-force lockout per credential). The client IP is still counted.
    if (problem !== undefined) return { kind: 'rejected', reason: `jwt: ${problem}` };
    return { kind: 'authenticated', principal };
  };

  const accept = (ctx: RequestContext, hash: string, result: VerifyResult): AuthResult => {
    if (!result.ok) return { kind: 'rejected', reason: `jwt: ${result.reason}`, credentialId: `jwt:${hash.slice(0, 12)}` };
    const { claims } = result;
    const subject = claims[subjectClaim];
    const principal: Principal = Object.freeze({
      method: 'jwt',
      consumerId: undefined,
      subject: typeof subject === 'string' ? subject : undefined,
      scopes: Object.freeze(readScopes(claims[scopeClaim] ?? claims.scp)),
      claims: Object.freeze(claims),
    });
    cache.set(hash, principal, result.key, deps.now(), result.expMs);
    return bound(ctx, hash, principal);
  };

  return {
    type: 'jwt',
    // RFC 6750 §3: the policy adds error="invalid_token" when a token was rejected.
    challenge: 'Bearer realm="portcullis"',
    verifier,
    cache,
    authenticate(ctx: RequestContext): AuthResult | Promise<AuthResult> {
      const value = ctx.header(header);
      if (value === undefined || !/^bearer(?: |$)/i.test(value)) return NOT_APPLICABLE;
      // Refused before hashing or parsing: an oversized header costs nothing more.
      if (value.length > maxBytes + 16) return { kind: 'rejected', reason: `jwt: token of ${value.length} bytes over the limit` };
      const match = BEARER.exec(value);
      if (match === null) return { kind: 'rejected', reason: 'jwt: malformed Bearer credential (RFC 6750 §2.1)' };
      const token = match[1]!;
      const hash = VerifiedTokenCache.keyOf(token);
      const cached = cache.get(hash, deps.now());
      if (cached !== undefined) {
        hit?.inc();
        return bound(ctx, hash, cached);
      }
      miss?.inc();
      const result = verifier.verify(token);
      return result instanceof Promise ? result.then((r) => accept(ctx, hash, r)) : accept(ctx, hash, result);
    },
    close() {
      verifier.close();
      cache.clear();
    },
  };
}

interface JwtCounters {
  readonly cache: Counter<'result'>;
  readonly jwks: Counter<'outcome'>;
}

/** Shared by every JWT method of a registry (one per route would collide on the metric name). */
function jwtCounters(registry: Registry | undefined): JwtCounters | undefined {
  if (registry === undefined) return undefined;
  const get = <L extends string>(name: string, help: string, label: L): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames: [label], registers: [registry] });
  return {
    cache: get('portcullis_jwt_verified_cache_total', 'JWT verified-token cache lookups, by result (hit or miss)', 'result'),
    jwks: get('portcullis_jwt_jwks_fetches_total', 'JWKS fetches, by outcome (ok or error)', 'outcome'),
  };
}

import type { Logger } from 'pino';
import { parseByteSize, parseDuration } from '../../config/units.js';
import { assertSafeUrl } from './jwks-cache.js';
import { sharedJwks, type JwksKeys } from './shared-jwks.js';
import { importStaticKey, isHmac, keyFits, minSecretBytes, secretKey, type VerificationKey } from './keys.js';
import type { JwtIssuerConfig, JwtMethodConfig } from './schema.js';

export interface CompiledIssuer {
  readonly issuer: string;
  readonly audiences: ReadonlySet<string>;
  readonly algorithms: ReadonlySet<string>;
  /** Static keys or the HMAC secret; undefined for JWKS issuers. */
  readonly keys: readonly VerificationKey[] | undefined;
  readonly jwks: JwksKeys | undefined;
  /** RFC 8705 §3: tokens without `cnf.x5t#S256` are refused. */
  readonly requireCertificateBinding: boolean;
}

export interface CompiledJwtConfig {
  readonly issuers: ReadonlyMap<string, CompiledIssuer>;
  readonly skewMs: number;
  readonly maxTokenBytes: number;
  readonly requiredClaims: readonly string[];
  /** Normalised required `typ` (lower case, no "application/"), or undefined. */
  readonly requireType: string | undefined;
}

export interface CompileDeps {
  readonly now: () => number;
  readonly logger: Logger;
  readonly onJwksFetch?: (issuer: string, outcome: 'ok' | 'error') => void;
}

/** RFC 7515 §4.1.9: "application/" may be omitted from `typ`; media types compare case-insensitively. */
export function normaliseType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** OIDC Discovery 1.0 §4: the document lives at the issuer + /.well-known/openid-configuration. */
export function discoveryUrl(url: string): string {
  const suffix = '/.well-known/openid-configuration';
  return url.endsWith(suffix) ? url : `${url.replace(/\/+$/, '')}${suffix}`;
}

/**
 * Checks what the schema cannot say and compiles keys, at load: throws with a message naming the
 * issuer. No I/O: JWKS and discovery are fetched on first use.
 */
export function compileJwtConfig(config: JwtMethodConfig, deps: CompileDeps): CompiledJwtConfig {
  const issuers = new Map<string, CompiledIssuer>();
  try {
    for (const issuer of config.issuers) {
      if (issuers.has(issuer.issuer)) throw new Error(`jwt: issuer ${issuer.issuer} listed twice`);
      issuers.set(issuer.issuer, compileIssuer(issuer, config, deps));
    }
  } catch (error) {
    // The shares of the issuers compiled so far are given back: a refused config holds no JWKS.
    for (const compiled of issuers.values()) compiled.jwks?.close();
    throw error;
  }
  return {
    issuers,
    skewMs: parseDuration(config.clockSkew),
    maxTokenBytes: parseByteSize(config.maxTokenBytes),
    requiredClaims: config.requiredClaims,
    requireType: config.requireType === undefined ? undefined : normaliseType(config.requireType),
  };
}

function compileIssuer(issuer: JwtIssuerConfig, config: JwtMethodConfig, deps: CompileDeps): CompiledIssuer {
  const where = `jwt issuer ${issuer.issuer}`;
  const sources = (['jwksUri', 'discovery', 'staticKeys', 'secret'] as const).filter((s) => issuer[s] !== undefined);
  if (sources.length !== 1) throw new Error(`${where}: exactly one of jwksUri, discovery, staticKeys, secret is required (found ${sources.length})`);
  const hmac = issuer.algorithms.filter(isHmac);
  const base = {
    issuer: issuer.issuer,
    audiences: new Set(issuer.audiences),
    algorithms: new Set<string>(issuer.algorithms),
    requireCertificateBinding: issuer.requireCertificateBinding,
  };
  if (issuer.secret !== undefined) {
    // RFC 8725 §3.1/§2.1: HMAC and public-key algorithms never share an issuer, so a public key can
    // never be used as an HMAC secret ("algorithm confusion").
    if (hmac.length !== issuer.algorithms.length) throw new Error(`${where}: a secret allows only HS256/HS384/HS512 in algorithms`);
    const bytes = Buffer.byteLength(issuer.secret, 'utf8');
    for (const alg of hmac) {
      if (bytes < Math.max(32, minSecretBytes(alg))) throw new Error(`${where}: ${alg} needs a secret of at least ${Math.max(32, minSecretBytes(alg))} bytes (RFC 7518 §3.2)`);
    }
    return { ...base, keys: [secretKey(issuer.secret)], jwks: undefined };
  }
  if (hmac.length > 0) throw new Error(`${where}: ${hmac.join(', ')} need a secret and cannot be used with public keys`);
  if (issuer.staticKeys !== undefined) {
    const keys = issuer.staticKeys.map((k, i) => {
      try {
        return importStaticKey(k);
      } catch (error) {
        throw new Error(`${where}: staticKeys[${i}]: ${(error as Error).message}`);
      }
    });
    keys.forEach((k, i) => {
      if (!issuer.algorithms.some((alg) => keyFits(k, alg))) throw new Error(`${where}: staticKeys[${i}] fits none of ${issuer.algorithms.join(', ')}`);
    });
    return { ...base, keys, jwks: undefined };
  }
  const jwksUri = issuer.jwksUri;
  const discovery = issuer.discovery === undefined ? undefined : discoveryUrl(issuer.discovery);
  for (const url of [jwksUri, discovery]) if (url !== undefined) assertUrl(where, url);
  // One fetcher per JWKS source per process, whichever routes name it (shared-jwks.ts).
  const jwks = sharedJwks({
    jwksUri,
    discoveryUrl: discovery,
    issuer: issuer.issuer,
    refreshIntervalMs: parseDuration(config.jwks.refreshInterval),
    minRefetchIntervalMs: parseDuration(config.jwks.minRefetchInterval),
    timeoutMs: parseDuration(config.jwks.timeout),
    now: deps.now,
    logger: deps.logger,
    onFetch: deps.onJwksFetch === undefined ? undefined : (outcome) => deps.onJwksFetch!(issuer.issuer, outcome),
  });
  return { ...base, keys: undefined, jwks };
}

function assertUrl(where: string, url: string): void {
  try {
    assertSafeUrl(url);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

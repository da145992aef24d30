import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import { parseDuration } from '../../config/units.js';
import type { IntrospectionResponse } from './client.js';
import type { PhantomConfig } from './schema.js';

/** The signing side of phantom tokens, compiled at load. */
export interface PhantomSigner {
  readonly header: string;
  readonly kid: string;
  /** The public half, for the upstream's JWKS. */
  readonly publicJwk: JWK;
  /** A phantom token (RFC 9068 shape) for an active introspection answer. */
  sign(response: IntrospectionResponse, subject: string | undefined, nowMs: number): Promise<string>;
}

const EC_ALG: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] };
/** Claims the phantom token always sets itself; `claims` in config cannot copy over them. */
const OWN_CLAIMS = new Set(['iss', 'aud', 'iat', 'nbf', 'jti', 'exp']);

/** The private key from config (JWK, PEM) or a fresh ES256 key; throws at load on a bad key. */
function loadKey(source: PhantomConfig['signingKey']): { key: KeyObject; kid: string | undefined } {
  if (typeof source === 'string') return { key: createPrivateKey({ key: source, format: 'pem' }), kid: undefined };
  if ('generate' in source) return { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: undefined };
  const { kid, ...jwk } = source as Record<string, unknown>;
  return { key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }), kid: kid as string | undefined };
}

/** The signing algorithm follows the key (RFC 8725 §3.1: one key, one algorithm). */
function algorithmOf(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`RSA key of ${bits} bits (RFC 7518 §3.3 wants >= 2048)`);
    return 'RS256';
  }
  if (type === 'ec') {
    const alg = EC_ALG[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (alg !== undefined) return alg;
  }
  if (type === 'ed25519') return 'EdDSA';
  throw new Error(`unsupported signing key type ${String(type)}`);
}

/** RFC 7638 JWK thumbprint, synchronously (create must not await). */
export function thumbprint(jwk: JsonWebKey): string {
  const members = THUMBPRINT_MEMBERS[String(jwk.kty)] ?? [];
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify((jwk as Record<string, unknown>)[m])}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Builds the phantom token signer (the "phantom token" pattern: outside, clients hold opaque
 * tokens that mean nothing to an attacker who reads them off an upstream's logs; inside, the
 * upstream gets a short-lived JWT it verifies offline). The token follows RFC 9068: `typ: at+jwt`,
 * our `iss` and `aud`, `iat`, a fresh `jti`, `exp` = min(now + ttl, the opaque token's `exp`), and
 * the configured members of the introspection answer. `sub` falls back to `client_id`, as RFC 9068
 * §2.2 says for client-credentials tokens.
 */
export function createPhantomSigner(config: PhantomConfig): PhantomSigner {
  const { key, kid: configuredKid } = loadKey(config.signingKey);
  const alg = algorithmOf(key);
  const exported = createPublicKey(key).export({ format: 'jwk' });
  const kid = configuredKid ?? thumbprint(exported);
  const publicJwk: JWK = Object.freeze({ ...(exported as JWK), kid, alg, use: 'sig' });
  const ttlS = Math.max(1, Math.floor(parseDuration(config.ttl) / 1000));
  const copied = config.claims.filter((c) => !OWN_CLAIMS.has(c));

  return {
    header: config.header,
    kid,
    publicJwk,
    sign(response, subject, nowMs) {
      const now = Math.floor(nowMs / 1000);
      const tokenExp = typeof response.exp === 'number' ? response.exp : Number.POSITIVE_INFINITY;
      const payload: Record<string, unknown> = {};
      for (const name of copied) if (response[name] !== undefined) payload[name] = response[name];
      if (config.claims.includes('sub') && subject !== undefined) payload.sub = subject;
      return new SignJWT(payload)
        .setProtectedHeader({ alg, typ: 'at+jwt', kid })
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setIssuedAt(now)
        .setJti(randomUUID())
        .setExpirationTime(Math.min(now + ttlS, tokenExp))
        .sign(key);
    },
  };
}

/** Public keys of every live phantom signer in this process, by kid, reference-counted. */
const published = new Map<string, { jwk: JWK; refs: number }>();

export function publishPhantomKey(signer: PhantomSigner): () => void {
  const entry = published.get(signer.kid) ?? { jwk: signer.publicJwk, refs: 0 };
  entry.refs += 1;
  published.set(signer.kid, entry);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    entry.refs -= 1;
    if (entry.refs === 0) published.delete(signer.kid);
  };
}

/**
 * The JWK Set (RFC 7517 §5) upstreams use to verify phantom tokens: the public keys of every
 * phantom signer of the current config in this process. `generate: true` keys differ per process
 * and per reload; serve a configured key when several workers or instances sign.
 */
export function phantomPublicJwks(): { keys: JWK[] } {
  return { keys: [...published.values()].map((e) => ({ ...e.jwk })) };
}

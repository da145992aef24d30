import { constants, createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { JwtAlgorithm, PublicJwk } from './schema.js';

/**
 * A key able to verify signatures. `retired` is set when a JWKS refresh drops the key, so verified
 * tokens cached under it stop being accepted at once (key rotation, RFC 7517 §5, is the issuer's
 * lever; the gateway must follow it).
 */
export interface VerificationKey {
  readonly kid: string | undefined;
  readonly key: KeyObject;
  /** `alg` of the JWK, when it names one: then the key verifies that algorithm only (RFC 7517 §4.4). */
  readonly alg: string | undefined;
  retired: boolean;
}

/** RFC 7518 §3.3: RSA keys below 2048 bits must not be used. */
const MIN_RSA_BITS = 2048;
const EC_CURVE: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };
const SIG_LENGTH: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132, EdDSA: 64, Ed25519: 64 };
const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** RFC 7518 §3.2: the HMAC key must be at least as long as the hash output. */
export function minSecretBytes(alg: string): number {
  return Number(alg.slice(2)) / 8;
}

export function isHmac(alg: string): boolean {
  return alg.startsWith('HS');
}

/** Whether `entry` may verify `alg`: key type, curve and the JWK's own `alg` must agree. */
export function keyFits(entry: VerificationKey, alg: string): boolean {
  if (entry.alg !== undefined && entry.alg !== alg) return false;
  const { key } = entry;
  if (key.type !== 'public') return false;
  const type = key.asymmetricKeyType;
  switch (alg.slice(0, 2)) {
    case 'RS':
      return type === 'rsa';
    case 'PS':
      return type === 'rsa' || type === 'rsa-pss';
    case 'ES':
      return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVE[alg];
    default:
      return (alg === 'EdDSA' || alg === 'Ed25519') && type === 'ed25519';
  }
}

/** Checks an imported public key is one we accept at all (RSA size, supported type). */
export function checkPublicKey(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  if (key.type !== 'public') return 'not a public key';
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits < MIN_RSA_BITS ? `RSA key of ${bits} bits (RFC 7518 §3.3 wants >= ${MIN_RSA_BITS})` : undefined;
  }
  if (type === 'ec' || type === 'ed25519') return undefined;
  return `unsupported key type ${String(type)}`;
}

/** A static key from config (JWK or PEM): imported synchronously at load, so bad keys fail there. */
export function importStaticKey(source: PublicJwk | string): VerificationKey {
  const key =
    typeof source === 'string'
      ? createPublicKey({ key: source, format: 'pem' })
      : createPublicKey({ key: { ...source } as import('node:crypto').JsonWebKey, format: 'jwk' });
  const problem = checkPublicKey(key);
  if (problem !== undefined) throw new Error(`static key: ${problem}`);
  const kid = typeof source === 'string' ? undefined : source.kid;
  const alg = typeof source === 'string' ? undefined : source.alg;
  return { kid, key, alg, retired: false };
}

export function secretKey(secret: string): VerificationKey {
  return { kid: undefined, key: createSecretKey(Buffer.from(secret, 'utf8')), alg: undefined, retired: false };
}

/**
 * Verifies a JWS signature (RFC 7515 §5.2 step 8) with node:crypto, synchronously: ~28 us for RS256
 * against ~80 us for jose's WebCrypto path on this machine (bench/jwt-verify.mjs). `alg` has been
 * checked against the issuer's allow list and `keyFits` before this is called. Never throws.
 */
export function verifySignature(alg: JwtAlgorithm, signingInput: Buffer, signature: Buffer, key: KeyObject): boolean {
  try {
    const hash = HASH[alg.slice(2)];
    if (isHmac(alg)) {
      // HMAC only ever with a configured secret key object (never a public key's bytes).
      if (key.type !== 'secret' || hash === undefined) return false;
      const expected = createHmac(hash, key).update(signingInput).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
    if (key.type !== 'public') return false;
    const fixed = SIG_LENGTH[alg];
    if (fixed !== undefined && signature.length !== fixed) return false;
    if (alg === 'EdDSA' || alg === 'Ed25519') return verify(null, signingInput, key, signature);
    if (hash === undefined) return false;
    if (alg.startsWith('RS')) return verify(hash, signingInput, key, signature);
    if (alg.startsWith('PS')) {
      // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
      const saltLength = Number(alg.slice(2)) / 8;
      return verify(hash, signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    }
    // RFC 7518 §3.4: ECDSA signatures are R || S, fixed width (IEEE P1363), not DER. OpenSSL
    // refuses r = 0 or s = 0, which is what CVE-2022-21449 ("psychic signatures") got wrong.
    return verify(hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

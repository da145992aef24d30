import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/**
 * Verification material kept in a Store credential of type `hmac` (its `secretHash` column):
 * - `hmac-sha256:base64:<secret>`: the shared secret itself. HMAC verification needs the secret, so
 *   unlike API keys it cannot be stored as a one-way hash; whoever reads the Store can sign as the
 *   consumer. Prefer ed25519.
 * - `ed25519:<base64 DER SPKI public key>`: only the public key; a Store leak forges nothing.
 */
export type KeyMaterial = { readonly alg: 'hmac-sha256'; readonly secret: Buffer } | { readonly alg: 'ed25519'; readonly key: KeyObject };

export function parseKeyMaterial(stored: string): KeyMaterial | string {
  if (stored.startsWith('hmac-sha256:base64:')) {
    const secret = Buffer.from(stored.slice('hmac-sha256:base64:'.length), 'base64');
    return secret.length < 16 ? 'hmac secret shorter than 16 bytes' : { alg: 'hmac-sha256', secret };
  }
  if (stored.startsWith('ed25519:')) {
    try {
      const key = createPublicKey({ key: Buffer.from(stored.slice('ed25519:'.length), 'base64'), format: 'der', type: 'spki' });
      return key.asymmetricKeyType === 'ed25519' ? { alg: 'ed25519', key } : 'stored key is not ed25519';
    } catch {
      return 'stored ed25519 key unreadable';
    }
  }
  return 'unknown key material format';
}

/** RFC 9421 section 3.3.4 (HMAC-SHA256, compared in constant time) and section 3.3.6 (Ed25519). */
export function verifySignature(material: KeyMaterial, base: string, signature: Buffer): boolean {
  const data = Buffer.from(base, 'utf8');
  if (material.alg === 'hmac-sha256') {
    const expected = createHmac('sha256', material.secret).update(data).digest();
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  }
  return signature.length === 64 && verify(null, data, material.key, signature);
}

/** Parsed material by stored string: bounded, cleared when full (parsing an SPKI key costs microseconds). */
export class KeyCache {
  private readonly map = new Map<string, KeyMaterial | string>();
  constructor(private readonly max = 10_000) {}
  get(stored: string): KeyMaterial | string {
    let found = this.map.get(stored);
    if (found === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      found = parseKeyMaterial(stored);
      this.map.set(stored, found);
    }
    return found;
  }
}

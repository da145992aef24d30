import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

/** The private signing keys handed to oidc-provider, and the algorithm its tokens are signed with. */
export interface SigningKeys {
  readonly keys: readonly JWK[];
  /** Algorithm of the first key: JWT access tokens (RFC 9068) and introspection responses (RFC 9701). */
  readonly alg: string;
  /** Every algorithm in the set, to enable in oidc-provider. */
  readonly algs: readonly string[];
  /** Generated at start: tokens signed with it do not survive a restart. */
  readonly ephemeral: boolean;
}

export class KeyConfigError extends Error {
  override readonly name = 'KeyConfigError';
}

/** RFC 7518 section 3.1 / RFC 8037: the default `alg` for each key type and curve. */
function defaultAlg(jwk: JWK): string | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv ?? ''];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

// Symmetric keys are refused: resource servers verify with the published JWKS (RFC 9068 section 4).
const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$/;

async function checkKey(input: JWK, where: string): Promise<JWK> {
  const jwk: JWK = { ...input };
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new KeyConfigError(`${where}: only signing keys (use "sig") are supported`);
  if (jwk.d === undefined) throw new KeyConfigError(`${where}: a private key is required (no "d" member)`);
  jwk.alg ??= defaultAlg(jwk);
  if (jwk.alg === undefined || !ASYMMETRIC.test(jwk.alg)) {
    throw new KeyConfigError(`${where}: unsupported key (kty ${String(jwk.kty)}, alg ${String(jwk.alg)}); use RSA, EC P-256/384/521 or Ed25519`);
  }
  try {
    await importJWK(jwk, jwk.alg);
  } catch (error) {
    throw new KeyConfigError(`${where}: not a usable ${jwk.alg} key (${(error as Error).message})`);
  }
  jwk.use = 'sig';
  // RFC 7638 thumbprint as `kid` when none is given, so the kid is stable across restarts.
  jwk.kid ??= await calculateJwkThumbprint(jwk);
  return jwk;
}

function readJwksFile(path: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new KeyConfigError(`keys.jwksFile ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new KeyConfigError(`keys.jwksFile ${path}: expected a JWK Set with a non-empty "keys" array`);
  return keys as JWK[];
}

/** An RS256 key made at start: RFC 9068 section 4 names RS256 as the algorithm every party supports. */
async function ephemeralKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: 'RS256', use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

/** Where keys come from: `keys` of the auth-server config. */
export interface KeySource {
  readonly jwksFile?: string | undefined;
  readonly jwks?: readonly object[] | undefined;
}

export async function loadSigningKeys(keys: KeySource, dir: string): Promise<SigningKeys> {
  let inputs: JWK[] | undefined;
  let where = 'keys.jwks';
  if (keys.jwksFile !== undefined) {
    const path = resolve(dir, keys.jwksFile);
    inputs = readJwksFile(path);
    where = `keys.jwksFile ${path}`;
  } else if (keys.jwks !== undefined) {
    inputs = keys.jwks as JWK[];
  }
  if (inputs === undefined) {
    const key = await ephemeralKey();
    return { keys: [key], alg: 'RS256', algs: ['RS256'], ephemeral: true };
  }
  const checked = await Promise.all(inputs.map((jwk, i) => checkKey(jwk, `${where}[${i}]`)));
  const kids = new Set(checked.map((k) => k.kid));
  if (kids.size !== checked.length) throw new KeyConfigError(`${where}: two keys share a kid`);
  const algs = [...new Set(checked.map((k) => k.alg!))];
  return { keys: checked, alg: checked[0]!.alg!, algs, ephemeral: false };
}

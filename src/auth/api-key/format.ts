import { createHmac, hash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Portcullis API keys: `pcl_<key id>_<secret><checksum>`.
 *
 * - `pcl_`: a fixed prefix, so secret scanners (GitHub push protection, gitleaks, trufflehog) can
 *   recognise a leaked key with one regular expression: `\bpcl_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}\b`.
 * - key id: 12 base62 characters (~71 bits), public, stored in clear and indexed: it finds the
 *   credential without touching the secret, and is what logs and the CLI show.
 * - secret: 43 base62 characters drawn uniformly (256.1 bits).
 * - checksum: 6 base62 characters of CRC-32 over everything before it, so a mistyped or invented
 *   key is refused without a store lookup (and without costing the store anything under stuffing).
 *
 * The secret is high-entropy, so a fast hash is the right one at rest (a memory-hard function adds
 * nothing against brute force of 256 bits and costs every request): SHA-256 over the whole key,
 * optionally keyed with a server-side pepper (HMAC) so a stolen database alone cannot even be
 * checked against candidate keys.
 */
export const API_KEY_PREFIX = 'pcl_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_ID_LENGTH = 12;
const SECRET_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
export const API_KEY_PATTERN = /^pcl_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;
export const API_KEY_LENGTH = API_KEY_PREFIX.length + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;

/** Uniform base62 characters by rejection sampling (no modulo bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62(value: number, width: number): string {
  let out = '';
  let rest = value >>> 0;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function checksum(body: string): string {
  return base62(crc32(body), CHECKSUM_LENGTH);
}

export interface GeneratedKey {
  /** The full key: shown once, never stored. */
  readonly key: string;
  readonly keyId: string;
}

export function generateApiKey(): GeneratedKey {
  const keyId = randomBase62(KEY_ID_LENGTH);
  const body = `${API_KEY_PREFIX}${keyId}_${randomBase62(SECRET_LENGTH)}`;
  return { key: body + checksum(body), keyId };
}

export type ParsedKey = { ok: true; keyId: string } | { ok: false; reason: 'format' | 'checksum' };

/** Shape and checksum only: no store, no secret comparison. */
export function parseApiKey(candidate: string): ParsedKey {
  if (candidate.length !== API_KEY_LENGTH) return { ok: false, reason: 'format' };
  const match = API_KEY_PATTERN.exec(candidate);
  if (match === null) return { ok: false, reason: 'format' };
  const body = candidate.slice(0, API_KEY_LENGTH - CHECKSUM_LENGTH);
  return match[3] === checksum(body) ? { ok: true, keyId: match[1]! } : { ok: false, reason: 'checksum' };
}

/** What the store keeps: `sha256:<hex>` or, with a pepper, `hmac-sha256:<hex>`. */
export function hashApiKey(key: string, pepper?: Buffer): string {
  if (pepper === undefined) return `sha256:${hash('sha256', key, 'hex')}`;
  return `hmac-sha256:${createHmac('sha256', pepper).update(key).digest('hex')}`;
}

/** A stored hash decoded once (and cached with its credential): keyed or not, and the hex digest. */
export interface StoredKeyHash {
  readonly keyed: boolean;
  /** 64 lower-case hex digits. */
  readonly digest: string;
}

const STORED_HASH = /^(sha256|hmac-sha256):([0-9a-f]{64})$/;

/** Decodes `sha256:<hex>` or `hmac-sha256:<hex>`; anything else is undefined and matches no key. */
export function decodeStoredHash(stored: string): StoredKeyHash | undefined {
  const match = STORED_HASH.exec(stored);
  return match === null ? undefined : { keyed: match[1] === 'hmac-sha256', digest: match[2]! };
}

/**
 * Constant-time comparison of a presented key against a stored hash, hex digest against hex digest.
 * It runs on every authenticated request: the one-shot `crypto.hash` with a string result costs
 * about 0.3 us, a Buffer result about 1 us (Node allocates the Buffer from C++), so the digests stay
 * strings and are compared with `equalHexDigests` rather than `timingSafeEqual`, which wants Buffers.
 */
export function apiKeyMatches(key: string, stored: string | StoredKeyHash, pepper?: Buffer): boolean {
  const expected = typeof stored === 'string' ? decodeStoredHash(stored) : stored;
  // A hash made with a pepper never matches without one, and the other way round.
  if (expected === undefined || expected.keyed !== (pepper !== undefined)) return false;
  const actual = pepper === undefined ? hash('sha256', key, 'hex') : createHmac('sha256', pepper).update(key).digest('hex');
  return equalHexDigests(expected.digest, actual);
}

/**
 * Constant time for two digests of the same length: every character is compared and the differences
 * are OR-ed together, with no early exit, so the time does not depend on where they differ.
 * Written by hand because `crypto.timingSafeEqual` takes Buffers (see above); the inputs are
 * fixed-length hex digests, never the secret itself.
 */
export function equalHexDigests(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

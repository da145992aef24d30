import { randomBytes, scrypt as nodeScrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes for `basic` (RFC 7914 scrypt, memory-hard): `scrypt$N$r$p$<salt b64>$<hash b64>`.
 * Self-describing, so the parameters can be raised later: each stored hash is verified with its own.
 *
 * Defaults N = 2^15, r = 8, p = 1 (128 * N * r = 32 MiB per computation), a 32-byte random salt and
 * a 64-byte key. Measured on the development machine (2 vCPUs, Node 20): about 180 ms per hash
 * (182 ms sync, 192 ms async, 10 runs each). That cost is the point: it is what an attacker with a
 * stolen database pays per guess.
 */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
export const SALT_BYTES = 32;
export const KEY_BYTES = 64;

/** Upper bounds on what a stored hash may ask for, so a bad row cannot demand gigabytes. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/** Async scrypt (the libuv threadpool; never the sync variant on the request path). Injectable for tests. */
export type ScryptFn = (password: Buffer, salt: Buffer, keylen: number, params: ScryptParams) => Promise<Buffer>;

/** Room for scrypt's 128 * N * r working set plus 128 * r * p, with headroom (Node's default is exactly 32 MiB). */
export const maxmemFor = ({ N, r, p }: ScryptParams): number => 128 * r * (N + p) * 2;

export const scryptAsync: ScryptFn = (password, salt, keylen, params) =>
  new Promise((resolve, reject) => {
    nodeScrypt(password, salt, keylen, { N: params.N, r: params.r, p: params.p, maxmem: maxmemFor(params) }, (err, key) => (err ? reject(err) : resolve(key)));
  });

export interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parsePasswordHash(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^[0-9]{1,8}$/.test(s!) ? Number(s) : NaN)) as [number, number, number];
  if (!(N >= 2 && N <= MAX_N && (N & (N - 1)) === 0 && r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P)) return undefined;
  if (!B64.test(parts[4]!) || !B64.test(parts[5]!)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 16 || hash.length < 32 || hash.length > 128) return undefined;
  return { params: { N, r, p }, salt, hash };
}

export function formatPasswordHash({ params, salt, hash }: ParsedHash): string {
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** What `portcullis basic set-password` stores. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS, scrypt: ScryptFn = scryptAsync): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scrypt(Buffer.from(password, 'utf8'), salt, KEY_BYTES, params);
  return formatPasswordHash({ params, salt, hash });
}

/** One scrypt and a constant-time comparison. */
export async function verifyPassword(password: Buffer, stored: ParsedHash, scrypt: ScryptFn = scryptAsync): Promise<boolean> {
  const actual = await scrypt(password, stored.salt, stored.hash.length, stored.params);
  return actual.length === stored.hash.length && timingSafeEqual(actual, stored.hash);
}

/** Verified against when the username is unknown, so the response costs the same scrypt either way. */
export function dummyHash(params: ScryptParams = DEFAULT_SCRYPT_PARAMS): ParsedHash {
  return { params, salt: randomBytes(SALT_BYTES), hash: randomBytes(KEY_BYTES) };
}

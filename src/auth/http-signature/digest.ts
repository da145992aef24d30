import { createHash, timingSafeEqual } from 'node:crypto';
import { parseDictionary } from './structured.js';

/** RFC 9530 section 5 algorithms we check; others in the header are ignored, but one we know must be present. */
const ALGORITHMS: Record<string, string> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

/**
 * Checks a Content-Digest header (RFC 9530 section 2) against the body: every sha-256 / sha-512
 * member must match, and at least one must be present. Returns a reason when it does not.
 */
export function checkContentDigest(header: string, body: Buffer): string | undefined {
  let dict;
  try {
    dict = parseDictionary(header);
  } catch {
    return 'content-digest malformed';
  }
  let checked = 0;
  for (const [name, member] of dict) {
    const alg = ALGORITHMS[name];
    if (alg === undefined) continue;
    if (!Buffer.isBuffer(member.value)) return `content-digest ${name} is not a byte sequence`;
    const actual = createHash(alg).update(body).digest();
    if (member.value.length !== actual.length || !timingSafeEqual(member.value, actual)) return `content-digest ${name} does not match the body`;
    checked++;
  }
  return checked === 0 ? 'content-digest has no sha-256 or sha-512 member' : undefined;
}

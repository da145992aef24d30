import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../core/context.js';
import { GatewayError } from '../../errors/index.js';
import { parseDictionary } from './structured.js';

/** RFC 9530 section 5 algorithms we check; others in the header are ignored, but one we know must be present. */
const ALGORITHMS: Record<string, string> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

/** True when the request announces a body (Content-Length > 0 or Transfer-Encoding). */
export function hasBody(ctx: RequestContext): boolean {
  if (ctx.header('transfer-encoding') !== undefined) return true;
  const length = ctx.header('content-length');
  return length !== undefined && Number(length) > 0;
}

/**
 * Reads the whole request body into `ctx.body` (the forwarder then sends that buffer instead of
 * streaming `ctx.req`). Past `limit` bytes: 413, as `request-size-limit` would answer.
 */
export async function bufferBody(ctx: RequestContext, limit: number): Promise<Buffer> {
  if (ctx.body !== undefined) return ctx.body;
  const max = ctx.maxBodyBytes === undefined ? limit : Math.min(limit, ctx.maxBodyBytes);
  const declared = Number(ctx.header('content-length') ?? '0');
  const tooLarge = () => new GatewayError('GW_REQUEST_TOO_LARGE', { reason: `http-signature: body over ${max} bytes`, detail: 'The request body is too large.' });
  if (declared > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    // The client went away or sent a broken body: a denial, not a policy fault (failureMode must not forward it).
    throw new GatewayError('GW_BAD_REQUEST', { reason: `http-signature: body unreadable (${(error as Error).message})`, detail: 'The request body could not be read.' });
  }
  ctx.body = Buffer.concat(chunks, size);
  return ctx.body;
}

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

import { request } from 'undici';
import type { JwtVerifier } from '../jwt/verifier.js';

/** An introspection answer (RFC 7662 §2.2): `active` and, when active, whatever the server tells. */
export type IntrospectionResponse = Readonly<Record<string, unknown>> & { readonly active: boolean };

const MAX_BODY_BYTES = 64 * 1024;
const JSON_TYPE = 'application/json';
/** RFC 9701 §4: the media type a client asks for, and the server answers with. */
export const JWT_RESPONSE_TYPE = 'application/token-introspection+jwt';

export interface IntrospectionClientOptions {
  readonly endpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly timeoutMs: number;
  /** Set in RFC 9701 mode: verifies the signed response. */
  readonly jwtVerifier: JwtVerifier | undefined;
}

/**
 * RFC 6749 §2.3.1: client_secret_basic form-urlencodes id and secret before base64, so a `:` in
 * the id cannot split it.
 */
export function basicCredentials(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * Calls the introspection endpoint (RFC 7662 §2.1) with the gateway's own credentials. Anything
 * but a well-formed answer (connection refused, timeout, a non-200 status, a body that is not an
 * introspection response, an RFC 9701 response that does not verify) throws: that is an
 * infrastructure fault, never a verdict on the token, so the policy's failureMode decides.
 */
export function introspectionClient(options: IntrospectionClientOptions): (token: string) => Promise<IntrospectionResponse> {
  const authorization = basicCredentials(options.clientId, options.clientSecret);
  const accept = options.jwtVerifier === undefined ? JSON_TYPE : JWT_RESPONSE_TYPE;
  const { endpoint, timeoutMs } = options;

  return async (token) => {
    const response = await request(endpoint, {
      method: 'POST',
      headers: { authorization, accept, 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`introspection endpoint answered ${response.statusCode}`);
    }
    const text = await readCapped(response.body);
    const contentType = String(response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (options.jwtVerifier === undefined) return checkShape(JSON.parse(text));
    // RFC 9701 §5: a client that asked for a JWT must not accept a plain JSON answer instead.
    if (contentType !== JWT_RESPONSE_TYPE) throw new Error(`introspection answered ${contentType || 'no content type'}, not ${JWT_RESPONSE_TYPE}`);
    const verified = await options.jwtVerifier.verify(text.trim());
    if (!verified.ok) throw new Error(`introspection JWT response refused: ${verified.reason}`);
    return checkShape(verified.claims['token_introspection']);
  };
}

/** RFC 7662 §2.2: `active` is REQUIRED and boolean; an answer without it is not an answer. */
function checkShape(body: unknown): IntrospectionResponse {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('introspection response is not a JSON object');
  const { active } = body as { active?: unknown };
  if (typeof active !== 'boolean') throw new Error('introspection response has no boolean "active" (RFC 7662 §2.2)');
  return body as IntrospectionResponse;
}

async function readCapped(body: AsyncIterable<unknown> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new Error(`introspection response over ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

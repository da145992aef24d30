import type { Logger } from 'pino';
import { parseByteSize, parseDuration } from '../../config/units.js';
import type { Principal, RequestContext } from '../../core/context.js';
import type { StateStore } from '../../state/types.js';
import { NOT_APPLICABLE, type AuthResult, type Authenticator } from '../authenticator.js';
import { readScopes } from '../jwt/claims.js';
import { certificateBindingProblem } from '../mtls/binding.js';
import { assertSafeUrl } from '../jwt/jwks-cache.js';
import { AnswerCache, tokenHash } from './cache.js';
import { introspectionClient, type IntrospectionResponse } from './client.js';
import { jwtResponseVerifier } from './jwt-response.js';
import { createPhantomSigner, publishPhantomKey, type PhantomSigner } from './phantom.js';
import type { IntrospectionMethodConfig } from './schema.js';

export interface IntrospectionDeps {
  readonly logger: Logger;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  readonly now: () => number;
  /** The shared StateStore (memory or Redis), opened on first use. */
  readonly state: () => Promise<StateStore>;
}

export interface IntrospectionAuthenticator extends Authenticator {
  readonly cache: AnswerCache;
  /** The phantom token signer, when `phantom` is configured (its public key: `phantomPublicJwks()`). */
  readonly phantom: PhantomSigner | undefined;
  /** Calls made to the introspection endpoint by this instance. */
  readonly calls: () => number;
  close(): void;
}

/** RFC 6750 §2.1: `Bearer` (case-insensitive), one or more spaces, the b64token. */
const BEARER = /^bearer +(\S+) *$/i;
const TOKEN_HEADER = 'authorization';

/** Checks what the schema cannot say; throws at load with a message naming the field. */
function checkConfig(config: IntrospectionMethodConfig): void {
  const safe = (field: string, url: string) => {
    try {
      assertSafeUrl(url);
    } catch {
      throw new Error(`introspection ${field}: ${url} needs https (http only on loopback)`);
    }
  };
  safe('endpoint', config.endpoint);
  if (config.jwksUri !== undefined) safe('jwksUri', config.jwksUri);
  if (config.jwtResponse && (config.issuer === undefined || config.jwksUri === undefined)) {
    throw new Error('introspection: jwtResponse needs issuer and jwksUri (RFC 9701 §5)');
  }
  if (config.phantom !== undefined && config.forwardToken) {
    throw new Error('introspection: forwardToken and phantom exclude each other (the upstream never sees the opaque token)');
  }
}

/**
 * Opaque bearer tokens checked by OAuth 2.0 token introspection (RFC 7662) at the configured
 * server, with the gateway's own client credentials. No `Authorization: Bearer`: not applicable.
 * A token shaped like a JWT is introspected too: this method never verifies tokens locally.
 * Inactive, expired, not yet valid or lacking a required scope: rejected. The server down, slow
 * or answering nonsense: an Error (an infrastructure fault; the authenticate policy fails closed
 * by default, 503 GW_POLICY_UNAVAILABLE). Active: a Principal, and the upstream gets either a
 * phantom JWT or nothing in place of the opaque token (unless `forwardToken`).
 */
export function createIntrospectionAuthenticator(config: IntrospectionMethodConfig, deps: IntrospectionDeps): IntrospectionAuthenticator {
  checkConfig(config);
  const verifier = config.jwtResponse
    ? jwtResponseVerifier({ issuer: config.issuer!, jwksUri: config.jwksUri!, clientId: config.clientId, now: deps.now, logger: deps.logger })
    : undefined;
  const introspect = introspectionClient({
    endpoint: config.endpoint,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    timeoutMs: parseDuration(config.timeout),
    jwtVerifier: verifier,
  });
  const cache = new AnswerCache({
    source: config.jwtResponse ? `${config.endpoint} jwt ${config.issuer} ${config.jwksUri}` : `${config.endpoint} json`,
    positiveTtlMs: parseDuration(config.cache.positiveTtl),
    negativeTtlMs: parseDuration(config.cache.negativeTtl),
    maxEntries: config.cache.maxEntries,
    now: deps.now,
    state: deps.state,
    logger: deps.logger,
  });
  const phantom = config.phantom === undefined ? undefined : createPhantomSigner(config.phantom);
  const unpublish = phantom === undefined ? undefined : publishPhantomKey(phantom);
  const required = typeof config.requiredScopes === 'string' ? readScopes(config.requiredScopes) : [...(config.requiredScopes ?? [])];
  const maxBytes = parseByteSize(config.maxTokenBytes);
  /** Concurrent requests with one token share one introspection call. */
  const inflight = new Map<string, Promise<IntrospectionResponse>>();
  let calls = 0;

  async function answerFor(hash: string, token: string): Promise<IntrospectionResponse> {
    const cached = await cache.get(hash);
    if (cached !== undefined) return cached.response;
    let pending = inflight.get(hash);
    if (pending === undefined) {
      calls += 1;
      pending = introspect(token)
        .then(async (response) => {
          await cache.set(hash, response);
          return response;
        })
        .finally(() => inflight.delete(hash));
      inflight.set(hash, pending);
    }
    return pending;
  }

  /** Checked on every request, cached answer or fresh: the cache holds answers, never decisions. */
  function judge(response: IntrospectionResponse, hash: string): AuthResult | Principal {
    const reject = (reason: string): AuthResult => ({ kind: 'rejected', reason: `introspection: ${reason}`, credentialId: `introspection:${hash.slice(0, 12)}` });
    if (!response.active) return reject('token not active (RFC 7662 §2.2)');
    const now = deps.now() / 1000;
    const { exp, nbf, sub, client_id: clientId } = response;
    if (exp !== undefined && (typeof exp !== 'number' || exp <= now)) return reject(`token expired at ${String(exp)}`);
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return reject(`token not valid before ${String(nbf)}`);
    const scopes = readScopes(response.scope);
    const missing = required.filter((s) => !scopes.includes(s));
    // RFC 6750 §3.1 calls this insufficient_scope (403); the authenticate policy answers 401.
    if (missing.length > 0) return reject(`missing required scope ${missing.join(' ')}`);
    return Object.freeze({
      method: 'introspection',
      subject: typeof sub === 'string' ? sub : typeof clientId === 'string' ? clientId : undefined,
      scopes: Object.freeze(scopes),
      claims: Object.freeze({ ...response }),
      consumerId: typeof clientId === 'string' ? clientId : undefined,
    });
  }

  async function decide(ctx: RequestContext, hash: string, token: string): Promise<AuthResult> {
    const response = await answerFor(hash, token);
    const verdict = judge(response, hash);
    if ('kind' in verdict) return verdict;
    // RFC 8705 §3: a bound token (its answer carries cnf.x5t#S256) only with its own certificate,
    // checked per request since the cached answer outlives any one connection.
    const unbound = certificateBindingProblem(ctx, response, config.requireCertificateBinding);
    // No credentialId, as for JWTs: a thief must not be able to lock the token's holder out.
    if (unbound !== undefined) return { kind: 'rejected', reason: `introspection: ${unbound}` };
    if (phantom !== undefined) {
      const jwt = await phantom.sign(response, verdict.subject, deps.now());
      if (phantom.header !== TOKEN_HEADER) ctx.setUpstreamHeader(TOKEN_HEADER, null);
      ctx.setUpstreamHeader(phantom.header, `Bearer ${jwt}`);
    } else if (!config.forwardToken) {
      ctx.setUpstreamHeader(TOKEN_HEADER, null);
    }
    return { kind: 'authenticated', principal: verdict };
  }

  return {
    type: 'introspection',
    // RFC 6750 §3: the policy adds error="invalid_token" when a token was rejected.
    challenge: 'Bearer realm="portcullis"',
    cache,
    phantom,
    calls: () => calls,
    authenticate(ctx) {
      const value = ctx.header(TOKEN_HEADER);
      if (value === undefined || !/^bearer(?: |$)/i.test(value)) return NOT_APPLICABLE;
      if (value.length > maxBytes + 16) return { kind: 'rejected', reason: `introspection: token of ${value.length} bytes over the limit` };
      const match = BEARER.exec(value);
      if (match === null) return { kind: 'rejected', reason: 'introspection: malformed Bearer credential (RFC 6750 §2.1)' };
      const token = match[1]!;
      return decide(ctx, tokenHash(token), token);
    },
    close() {
      verifier?.close();
      unpublish?.();
      cache.clear();
    },
  };
}

import { createHash } from 'node:crypto';
import type { Principal } from '../../core/context.js';
import type { PolicyDeps } from '../../core/policy.js';
import { parseDuration } from '../../config/units.js';
import type { Credential, Store } from '../../storage/types.js';
import { RevocationFeed } from '../revocations.js';
import { NOT_APPLICABLE, type AuthResult, type Authenticator } from '../authenticator.js';
import { VerifiedCache } from './cache.js';
import { parseBasicAuthorization } from './header.js';
import { HashLimiter } from './limiter.js';
import { DEFAULT_SCRYPT_PARAMS, dummyHash, parsePasswordHash, scryptAsync, verifyPassword, type ScryptFn } from './password.js';
import type { BasicMethodConfig } from './schema.js';

/** RFC 7617 section 2.1: the realm, and UTF-8 as the only charset we decode. */
export const BASIC_CHALLENGE = 'Basic realm="portcullis", charset="UTF-8"';

export type BasicDeps = Pick<PolicyDeps, 'logger' | 'now' | 'store' | 'state'>;

export interface BasicOptions {
  /** The scrypt implementation; tests inject a counting wrapper. */
  readonly scrypt?: ScryptFn;
}

export interface BasicAuthenticator extends Authenticator {
  readonly cache: VerifiedCache;
  readonly limiter: HashLimiter;
  close(): Promise<void>;
}


/**
 * HTTP Basic authentication (RFC 7617) for legacy clients. No `Authorization: Basic`: not
 * applicable. A malformed header: rejected. Otherwise the credential of type `basic` is found by
 * username and the password checked with scrypt (RFC 7914) in constant time; an unknown username
 * costs one scrypt against a dummy hash, so timing does not reveal which usernames exist. Successful
 * checks are cached for `cacheTtl` by SHA-256(username ':' password) and evicted by a message with
 * the username on `portcullis:credentials`. At most `maxConcurrentHashes` scrypt computations run at
 * once. The Authorization header never reaches the upstream.
 */
export function createBasicAuthenticator(config: BasicMethodConfig, deps: BasicDeps, options: BasicOptions = {}): BasicAuthenticator {
  const scrypt = options.scrypt ?? scryptAsync;
  const cache = new VerifiedCache(config.cacheMaxEntries, parseDuration(config.cacheTtl));
  const limiter = new HashLimiter(config.maxConcurrentHashes, config.maxQueuedHashes);
  const dummy = dummyHash(DEFAULT_SCRYPT_PARAMS);
  let store: Store | undefined;
  const revocations = new RevocationFeed(deps, 'basic', (username) => cache.evictUser(username));

  const reject = (reason: string, username?: string): AuthResult => ({
    kind: 'rejected',
    reason: `basic: ${reason}`,
    ...(username === undefined ? {} : { credentialId: `basic:${username}` }),
  });

  /** Revocation and expiry, checked on every request (cached or not) against `deps.now`. */
  function admit(username: string, credential: Credential): AuthResult {
    const now = deps.now();
    if (credential.revokedAt !== null && now >= credential.revokedAt.getTime()) return reject(`user ${username} revoked`, username);
    if (credential.expiresAt !== null && now >= credential.expiresAt.getTime()) return reject(`user ${username} expired`, username);
    const principal: Principal = Object.freeze({
      method: 'basic',
      consumerId: credential.consumerId,
      subject: username,
      scopes: credential.scopes,
      claims: Object.freeze({ credentialId: credential.id }),
    });
    return { kind: 'authenticated', principal };
  }

  async function verify(username: string, password: string, cacheKey: string): Promise<AuthResult> {
    await revocations.ensureSubscribed();
    const seen = revocations.generation;
    store ??= await deps.store();
    // A StoreError propagates: the policy's failureMode decides (closed: 503).
    const credential = await store.credentials.findByLookup('basic', username);
    const stored = credential === null ? undefined : parsePasswordHash(credential.secretHash);
    if (credential !== null && stored === undefined) deps.logger.warn({ credentialId: credential.id }, 'basic: stored password hash is not in the scrypt format');
    // Always one scrypt: against the stored hash, or the dummy for an unknown user (or an unusable row).
    const ok = await limiter.run(() => verifyPassword(Buffer.from(password, 'utf8'), stored ?? dummy, scrypt));
    if (credential === null) return reject(`unknown user ${username}`, username);
    if (stored === undefined || !ok) return reject(`wrong password for user ${username}`, username);
    const result = admit(username, credential);
    if (result.kind === 'authenticated' && seen === revocations.generation && !revocations.closed) cache.set(cacheKey, username, credential, deps.now());
    return result;
  }

  return {
    type: 'basic',
    challenge: BASIC_CHALLENGE,
    cache,
    limiter,
    authenticate(ctx) {
      const parsed = parseBasicAuthorization(ctx.header('authorization'));
      if (parsed.kind === 'absent') return NOT_APPLICABLE;
      ctx.setUpstreamHeader('authorization', null);
      if (parsed.kind === 'malformed') return reject(parsed.reason);
      const { username, password } = parsed;
      const cacheKey = createHash('sha256').update(`${username}:${password}`, 'utf8').digest('hex');
      const cached = cache.get(cacheKey, deps.now());
      return cached !== undefined ? admit(username, cached) : verify(username, password, cacheKey);
    },
    async close() {
      cache.clear();
      await revocations.close();
    },
  };
}

import type { Principal, RequestContext } from '../../core/context.js';
import type { PolicyDeps } from '../../core/policy.js';
import { parseDuration } from '../../config/units.js';
import type { Store } from '../../storage/types.js';
import { NOT_APPLICABLE, type AuthResult, type Authenticator } from '../authenticator.js';
import { RevocationFeed } from '../revocations.js';
import { consumerGroups, CredentialCache, type KnownCredential } from './cache.js';
import { apiKeyMatches, decodeStoredHash, parseApiKey } from './format.js';
import { LastUsedRecorder } from './last-used.js';
import { takeQueryParameter } from './query.js';
import type { ApiKeyMethodConfig } from './schema.js';

export { CREDENTIALS_CHANNEL } from '../revocations.js';

export type ApiKeyDeps = Pick<PolicyDeps, 'logger' | 'now' | 'store' | 'state'>;

export interface ApiKeyAuthenticator extends Authenticator {
  readonly cache: CredentialCache;
  readonly lastUsed: LastUsedRecorder;
  close(): Promise<void>;
}


/**
 * API-key authentication. No key in the header (or the opted-in query parameter): not applicable. A
 * key failing format or checksum: rejected without a store lookup. Otherwise the credential is found
 * by key id (cached for `cacheTtl`, evicted at once by a message on `portcullis:credentials`), the
 * key compared with its stored hash in constant time, and revocation, expiry and rotation grace
 * checked against `deps.now`. The key never reaches the upstream.
 */
export function createApiKeyAuthenticator(config: ApiKeyMethodConfig, deps: ApiKeyDeps): ApiKeyAuthenticator {
  const { header, queryParameter } = config;
  const pepper = config.pepper === undefined ? undefined : Buffer.from(config.pepper, 'utf8');
  const cache = new CredentialCache(config.cacheMaxEntries, parseDuration(config.cacheTtl));
  let store: Store | undefined;
  const lastUsed = new LastUsedRecorder(parseDuration(config.lastUsedFlushInterval), () => store, deps);

  // Lazily subscribed, on the first lookup, so `create` does no I/O.
  const revocations = new RevocationFeed(deps, 'api-key', (keyId) => cache.delete(keyId));

  const reject = (reason: string, keyId?: string): AuthResult => ({
    kind: 'rejected',
    reason: `api-key: ${reason}`,
    ...(keyId === undefined ? {} : { credentialId: `api-key:${keyId}` }),
  });

  function check(key: string, keyId: string, credential: KnownCredential | null): AuthResult {
    if (credential === null) return reject(`unknown key id ${keyId}`, keyId);
    if (!apiKeyMatches(key, credential.decodedHash ?? credential.secretHash, pepper)) return reject(`wrong secret for key id ${keyId}`, keyId);
    const now = deps.now();
    if (credential.expiresAt !== null && now >= credential.expiresAt.getTime()) return reject(`key ${keyId} expired`, keyId);
    // During rotation the old key works until graceUntil, even though it is revoked (storage/types.ts).
    if (credential.graceUntil !== null) {
      if (now >= credential.graceUntil.getTime()) return reject(`key ${keyId} rotated, grace period over`, keyId);
    } else if (credential.revokedAt !== null && now >= credential.revokedAt.getTime()) {
      return reject(`key ${keyId} revoked`, keyId);
    }
    lastUsed.record(credential.id);
    return { kind: 'authenticated', principal: principalOf(credential, keyId) };
  }

  /** The principal depends on the credential alone: made once per cached credential, not per request. */
  const principals = new WeakMap<KnownCredential, Principal>();
  function principalOf(credential: KnownCredential, keyId: string): Principal {
    let principal = principals.get(credential);
    if (principal !== undefined) return principal;
    principal = Object.freeze({
      method: 'api-key',
      consumerId: credential.consumerId,
      subject: credential.consumerId,
      scopes: credential.scopes,
      claims: Object.freeze({ credentialId: credential.id, keyId }),
      ...(credential.groups === undefined || credential.groups.length === 0 ? {} : { groups: credential.groups }),
    });
    principals.set(credential, principal);
    return principal;
  }

  async function lookup(key: string, keyId: string): Promise<AuthResult> {
    await revocations.ensureSubscribed();
    const seen = revocations.generation;
    store ??= await deps.store();
    // A StoreError (STORE_UNAVAILABLE) propagates: the policy's failureMode decides (closed: 503).
    const found = await store.credentials.findByLookup('api-key', keyId);
    // The consumer's groups travel with the credential (and its cache entry) for authorization.
    const credential: KnownCredential | null =
      found === null ? null : { ...found, groups: consumerGroups(await store.consumers.get(found.consumerId)), decodedHash: decodeStoredHash(found.secretHash) };
    if (credential !== null && seen === revocations.generation && !revocations.closed) cache.set(keyId, credential, deps.now());
    return check(key, keyId, credential);
  }

  function presentedKey(ctx: RequestContext): string | undefined {
    const fromHeader = ctx.header(header);
    if (fromHeader !== undefined) ctx.setUpstreamHeader(header, null);
    if (queryParameter !== undefined) {
      const taken = takeQueryParameter(ctx.query, queryParameter);
      if (taken !== undefined) {
        ctx.query = taken.rest;
        return fromHeader ?? taken.value;
      }
    }
    return fromHeader;
  }

  return {
    type: 'api-key',
    challenge: `ApiKey realm="portcullis", header="${header}"`,
    cache,
    lastUsed,
    authenticate(ctx: RequestContext): AuthResult | Promise<AuthResult> {
      const key = presentedKey(ctx);
      if (key === undefined) return NOT_APPLICABLE;
      const parsed = parseApiKey(key);
      if (!parsed.ok) return reject(parsed.reason === 'format' ? 'malformed key' : 'key checksum mismatch');
      const cached = cache.get(parsed.keyId, deps.now());
      return cached !== undefined ? check(key, parsed.keyId, cached) : lookup(key, parsed.keyId);
    },
    async close() {
      cache.clear();
      await lastUsed.close();
      await revocations.close();
    },
  };
}

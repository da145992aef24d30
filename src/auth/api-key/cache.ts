import { TtlLru } from '../../core/ttl-lru.js';
import type { Consumer, Credential } from '../../storage/types.js';
import type { StoredKeyHash } from './format.js';

/**
 * Credentials found in the store, keyed by key id: the record (with its hash), never the key. A
 * fixed TTL, so a change that was not broadcast (a revocation seen by another process without
 * Redis) is picked up within `ttlMs`. Only positive lookups are kept.
 */
export class CredentialCache extends TtlLru<KnownCredential> {}

/**
 * A credential with its consumer's groups (tags and `metadata.roles`), found together and cached
 * together, and its stored hash decoded once (undefined when the stored value is not a hash we make).
 */
export type KnownCredential = Credential & { readonly groups?: readonly string[]; readonly decodedHash?: StoredKeyHash | undefined };

/** The consumer's tags and the strings in `metadata.roles`: what authorization sees as its groups. */
export function consumerGroups(consumer: Consumer | null): readonly string[] {
  if (consumer === null) return [];
  const roles = consumer.metadata['roles'];
  const fromRoles = Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string' && r !== '') : [];
  return Object.freeze([...new Set([...consumer.tags, ...fromRoles])]);
}

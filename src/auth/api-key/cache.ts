import { TtlLru } from '../../core/ttl-lru.js';
import type { Credential } from '../../storage/types.js';

/**
 * Credentials found in the store, keyed by key id: the record (with its hash), never the key. A
 * fixed TTL, so a change that was not broadcast (a revocation seen by another process without
 * Redis) is picked up within `ttlMs`. Only positive lookups are kept.
 */
export class CredentialCache extends TtlLru<Credential> {}

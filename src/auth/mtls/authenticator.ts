import type { PolicyDeps } from '../../core/policy.js';
import { TtlLru } from '../../core/ttl-lru.js';
import { parseDuration } from '../../config/units.js';
import type { Credential, Store } from '../../storage/types.js';
import { NOT_APPLICABLE, type AuthResult, type Authenticator } from '../authenticator.js';
import { RevocationFeed } from '../revocations.js';
import { compileMappings, fingerprintLookupId, mappedPrincipal, subjectLookupId } from './mappings.js';
import { peerCertificate, type PeerCertificate } from './peer.js';
import type { MtlsMethodConfig } from './schema.js';

export type MtlsDeps = Pick<PolicyDeps, 'logger' | 'now' | 'store' | 'state'>;

export interface MtlsAuthenticator extends Authenticator {
  /** Store lookups by certificate fingerprint (hex): the credential, or null for "not in the Store". */
  readonly cache: TtlLru<Credential | null>;
  /** Store lookups made (tests read it). */
  readonly lookups: () => number;
  close(): Promise<void>;
}

/**
 * Mutual-TLS client authentication (RFC 8705 section 2.1, PKI method). The listener's TLS layer
 * verifies the certificate against the configured CAs; this method maps a verified certificate to a
 * consumer. No certificate (or plain HTTP): not applicable. A certificate that did not verify
 * (possible with `clientCertificates.mode: optional`): rejected, whatever its subject says, since a
 * self-signed certificate can claim any name. A verified but unmapped certificate: rejected.
 * Static mappings are tried first, then, with `store: true`, mtls credentials in the Store (by
 * fingerprint, then subject), cached per certificate and evicted on `portcullis:credentials`.
 */
export function createMtlsAuthenticator(config: MtlsMethodConfig, deps: MtlsDeps): MtlsAuthenticator {
  const mappings = compileMappings(config.mappings);
  if (mappings.size === 0 && !config.store) throw new Error('mtls: no mappings and store: false, so no certificate could ever be accepted');
  const cache = new TtlLru<Credential | null>(config.cacheMaxEntries, parseDuration(config.cacheTtl));
  // The CLI publishes a credential's lookup id on any change; one entry cannot be found from it
  // (the cache is keyed by fingerprint), and such changes are rare: forget every lookup.
  const revocations = new RevocationFeed(deps, 'mtls', (id) => {
    if (id.startsWith('sha256:') || id.startsWith('subject:')) cache.clear();
  });
  let store: Store | undefined;
  let lookups = 0;

  const reject = (reason: string, certificate?: PeerCertificate): AuthResult => ({
    kind: 'rejected',
    reason: `mtls: ${reason}`,
    ...(certificate === undefined ? {} : { credentialId: `mtls:${certificate.fingerprintHex.slice(0, 16)}` }),
  });

  /** Revocation and expiry are checked on every request, cached lookup or not. */
  function admit(certificate: PeerCertificate, credential: Credential | null): AuthResult {
    const { info } = certificate;
    if (credential === null) return reject(`certificate ${info.subject} (SHA-256 ${info.fingerprint256}) is mapped to no consumer`, certificate);
    const now = deps.now();
    if (credential.revokedAt !== null && now >= credential.revokedAt.getTime()) return reject(`credential ${credential.id} for ${info.subject} revoked`, certificate);
    if (credential.expiresAt !== null && now >= credential.expiresAt.getTime()) return reject(`credential ${credential.id} for ${info.subject} expired`, certificate);
    const principal = mappedPrincipal(info, credential.consumerId, undefined, credential.scopes, { credentialId: credential.id });
    return { kind: 'authenticated', principal };
  }

  async function fromStore(certificate: PeerCertificate): Promise<AuthResult> {
    await revocations.ensureSubscribed();
    const seen = revocations.generation;
    store ??= await deps.store();
    lookups += 1;
    // A StoreError propagates: the policy's failureMode decides (closed: 503).
    // An empty subject names nobody (SAN-only certificates): such a certificate maps by fingerprint only.
    const credential =
      (await store.credentials.findByLookup('mtls', fingerprintLookupId(certificate.fingerprintHex))) ??
      (certificate.info.subject === '' ? null : await store.credentials.findByLookup('mtls', subjectLookupId(certificate.subjectKey)));
    if (seen === revocations.generation && !revocations.closed) cache.set(certificate.fingerprintHex, credential, deps.now());
    return admit(certificate, credential);
  }

  return {
    type: 'mtls',
    // No HTTP challenge can ask for a client certificate; RFC 8705 leaves it to TLS. A token-less
    // scheme name keeps WWW-Authenticate well formed (RFC 9110 section 11.6.1).
    challenge: 'MutualTLS realm="portcullis"',
    cache,
    lookups: () => lookups,
    authenticate(ctx) {
      const peer = peerCertificate(ctx);
      if (peer.kind === 'none') return NOT_APPLICABLE;
      if (peer.kind === 'unverified') return reject(peer.reason);
      const { certificate } = peer;
      const mapping = mappings.find(certificate);
      if (mapping !== undefined) {
        return { kind: 'authenticated', principal: mappedPrincipal(certificate.info, mapping.consumerId, mapping.subject, mapping.scopes, {}) };
      }
      if (!config.store) return admit(certificate, null);
      const cached = cache.get(certificate.fingerprintHex, deps.now());
      return cached !== undefined ? admit(certificate, cached) : fromStore(certificate);
    },
    async close() {
      cache.clear();
      await revocations.close();
    },
  };
}

import { createHash } from 'node:crypto';
import type { ClientCertificateInfo, Principal } from '../../core/context.js';
import { canonicalSan, dnKey, normaliseFingerprint } from './names.js';
import type { PeerCertificate } from './peer.js';
import type { MtlsMappingConfig } from './schema.js';

/** Store lookup id of an mtls credential found by fingerprint (`sha256:` + 64 hex digits). */
export function fingerprintLookupId(fingerprintHex: string): string {
  return `sha256:${fingerprintHex}`;
}

/**
 * Store lookup id of an mtls credential found by subject DN: `subject:` + base64url SHA-256 of the
 * canonical DN (a DN may be longer than a lookup id may be; the DN itself goes in the metadata).
 */
export function subjectLookupId(subjectKey: string): string {
  return `subject:${createHash('sha256').update(subjectKey).digest('base64url')}`;
}

interface CompiledMapping {
  readonly issuerKey: string | undefined;
  readonly consumerId: string | undefined;
  readonly subject: string | undefined;
  readonly scopes: readonly string[];
}

/** Static mappings in three maps: by fingerprint, by subject DN, by SAN. */
export interface StaticMappings {
  find(certificate: PeerCertificate): CompiledMapping | undefined;
  readonly size: number;
}

/** Checks and indexes the static mappings at load; throws with a message naming the mapping. */
export function compileMappings(mappings: readonly MtlsMappingConfig[]): StaticMappings {
  const byFingerprint = new Map<string, CompiledMapping>();
  const bySubject = new Map<string, CompiledMapping[]>();
  const bySan = new Map<string, CompiledMapping[]>();
  mappings.forEach((mapping, i) => {
    const where = `mtls mappings[${i}]`;
    const { match } = mapping;
    const kinds = (['subject', 'san', 'fingerprint'] as const).filter((k) => match[k] !== undefined);
    if (kinds.length !== 1) throw new Error(`${where}.match: exactly one of subject, san, fingerprint is required (found ${kinds.length})`);
    let issuerKey: string | undefined;
    try {
      issuerKey = match.issuer === undefined ? undefined : dnKey(match.issuer);
      const compiled: CompiledMapping = { issuerKey, consumerId: mapping.consumerId, subject: mapping.subject, scopes: Object.freeze([...mapping.scopes]) };
      if (match.fingerprint !== undefined) {
        const hex = normaliseFingerprint(match.fingerprint)!;
        if (byFingerprint.has(hex)) throw new Error(`fingerprint ${match.fingerprint} is mapped twice`);
        byFingerprint.set(hex, compiled);
      } else if (match.subject !== undefined) {
        push(bySubject, dnKey(match.subject), compiled, `subject ${match.subject}`);
      } else {
        const colon = match.san!.indexOf(':');
        const san = canonicalSan(match.san!.slice(0, colon), match.san!.slice(colon + 1));
        if (san === undefined) throw new Error(`san "${match.san}": the type must be DNS, URI, email or IP`);
        push(bySan, san, compiled, `san ${match.san}`);
      }
    } catch (error) {
      throw new Error(`${where}.match: ${(error as Error).message}`);
    }
  });

  const pick = (candidates: readonly CompiledMapping[] | undefined, certificate: PeerCertificate) =>
    candidates?.find((m) => m.issuerKey === undefined || m.issuerKey === certificate.issuerKey);
  return {
    size: mappings.length,
    find(certificate) {
      // Most specific first: a fingerprint names one certificate, a subject or SAN any the CA issues.
      const exact = byFingerprint.get(certificate.fingerprintHex);
      if (exact !== undefined && (exact.issuerKey === undefined || exact.issuerKey === certificate.issuerKey)) return exact;
      const bySubjectDn = pick(bySubject.get(certificate.subjectKey), certificate);
      if (bySubjectDn !== undefined) return bySubjectDn;
      for (const san of certificate.info.san) {
        const found = pick(bySan.get(san), certificate);
        if (found !== undefined) return found;
      }
      return undefined;
    },
  };
}

/** Mappings with the same key must differ by issuer, or the first would silently shadow the second. */
function push(map: Map<string, CompiledMapping[]>, key: string, mapping: CompiledMapping, what: string): void {
  const list = map.get(key) ?? [];
  if (list.some((m) => m.issuerKey === mapping.issuerKey)) throw new Error(`${what} is mapped twice${mapping.issuerKey === undefined ? '' : ' for the same issuer'}`);
  // Issuer-pinned mappings are tried before an unpinned one.
  list.splice(mapping.issuerKey === undefined ? list.length : 0, 0, mapping);
  map.set(key, list);
}

export function mappedPrincipal(info: ClientCertificateInfo, consumerId: string | undefined, subject: string | undefined, scopes: readonly string[], claims: Record<string, unknown>): Principal {
  return Object.freeze({
    method: 'mtls',
    consumerId,
    subject: subject ?? consumerId ?? info.subject,
    scopes,
    claims: Object.freeze(claims),
    certificate: info,
  });
}

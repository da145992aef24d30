export { createMtlsAuthenticator, type MtlsAuthenticator, type MtlsDeps } from './authenticator.js';
export { certificateBindingProblem } from './binding.js';
export { fingerprintLookupId, subjectLookupId } from './mappings.js';
export { dnKey, normaliseFingerprint, parseDn } from './names.js';
export { describeCertificate, peerCertificate, type PeerCertificate, type PeerCertificateState } from './peer.js';
export { MtlsMethodSchema, type MtlsMethodConfig } from './schema.js';

export { createHttpSignatureAuthenticator, type HttpSignatureDeps } from './authenticator.js';
export { HttpSignatureMethodSchema, type HttpSignatureMethodConfig } from './schema.js';
export { parseKeyMaterial, type KeyMaterial } from './keys.js';
export { signatureBase, serializeInnerList, type SignatureInput } from './signature-base.js';

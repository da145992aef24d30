export { BASIC_CHALLENGE, createBasicAuthenticator, type BasicAuthenticator, type BasicDeps, type BasicOptions } from './authenticator.js';
export { BasicMethodSchema, type BasicMethodConfig } from './schema.js';
export { DEFAULT_SCRYPT_PARAMS, hashPassword, parsePasswordHash, verifyPassword, type ScryptFn, type ScryptParams } from './password.js';
export { HashLimiter, HashQueueFullError } from './limiter.js';

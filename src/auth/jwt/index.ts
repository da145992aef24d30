export { createJwtAuthenticator, type JwtAuthenticator, type JwtDeps } from './authenticator.js';
export { JwtMethodSchema, JwtIssuerSchema, JWT_ALGORITHMS, type JwtMethodConfig, type JwtIssuerConfig, type JwtAlgorithm } from './schema.js';

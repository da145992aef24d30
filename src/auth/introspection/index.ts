export { createIntrospectionAuthenticator, type IntrospectionAuthenticator, type IntrospectionDeps } from './authenticator.js';
export { IntrospectionMethodSchema, PhantomSchema, type IntrospectionMethodConfig, type PhantomConfig } from './schema.js';
export { phantomPublicJwks } from './phantom.js';
export { tokenHash } from './cache.js';

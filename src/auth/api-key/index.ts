export { createApiKeyAuthenticator, CREDENTIALS_CHANNEL, type ApiKeyAuthenticator, type ApiKeyDeps } from './authenticator.js';
export { ApiKeyMethodSchema, type ApiKeyMethodConfig } from './schema.js';
export { API_KEY_PREFIX, apiKeyMatches, generateApiKey, hashApiKey, parseApiKey } from './format.js';

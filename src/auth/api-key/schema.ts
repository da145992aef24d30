import { Type, type Static } from '@sinclair/typebox';
import { Duration, strictObject } from '../../config/types-common.js';

export const ApiKeyMethodSchema = strictObject(
  {
    header: Type.String({ description: 'Header carrying the API key, lower case; removed before forwarding', default: 'x-api-key', pattern: '^[a-z0-9-]{1,64}$' }),
    queryParameter: Type.Optional(
      Type.String({
        description:
          'Also accept the key from this query parameter (off unless set: query strings end up in logs and browser history); removed before forwarding',
        pattern: '^[A-Za-z0-9_.-]{1,64}$',
      }),
    ),
    pepper: Type.Optional(
      Type.String({
        description: 'Server-side secret keying the stored hashes (HMAC-SHA256); must match the one used by `portcullis keys create`. Use ${ENV:NAME}',
        minLength: 16,
        maxLength: 1024,
        secret: true,
      }),
    ),
    cacheTtl: Duration('How long a credential found in the store is reused without a lookup; bounds staleness when revocations cannot be broadcast', '30s'),
    cacheMaxEntries: Type.Integer({ description: 'Credentials kept in the in-process cache (LRU); 0 disables it', default: 10_000, minimum: 0, maximum: 1_000_000 }),
    lastUsedFlushInterval: Duration('Last-used times are collected in memory and written in one batch this often', '30s'),
  },
  'API keys in the Portcullis format (docs/authentication.md#api-keys), looked up in the Store by key id',
);

export type ApiKeyMethodConfig = Static<typeof ApiKeyMethodSchema>;

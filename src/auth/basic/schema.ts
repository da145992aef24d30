import { Type, type Static } from '@sinclair/typebox';
import { Duration, strictObject } from '../../config/types-common.js';

export const BasicMethodSchema = strictObject(
  {
    cacheTtl: Duration(
      'How long a successful username/password check is reused without running scrypt again (keyed by SHA-256 of the pair, never the password); also bounds staleness when revocations cannot be broadcast',
      '60s',
    ),
    cacheMaxEntries: Type.Integer({ description: 'Successful checks kept in the in-process cache (LRU); 0 disables it', default: 10_000, minimum: 0, maximum: 1_000_000 }),
    maxConcurrentHashes: Type.Integer({
      description: 'scrypt computations running at once in this process (each holds a libuv threadpool thread and 32 MiB); the rest wait in a queue',
      default: 4,
      minimum: 1,
      maximum: 64,
    }),
    maxQueuedHashes: Type.Integer({
      description: 'Checks waiting for a scrypt slot; beyond it a request fails at once with a policy fault (503 GW_POLICY_UNAVAILABLE under failureMode closed)',
      default: 64,
      minimum: 0,
      maximum: 10_000,
    }),
  },
  'HTTP Basic authentication (RFC 7617) against scrypt password hashes (RFC 7914) in the Store (docs/authentication.md#basic-authentication)',
);

export type BasicMethodConfig = Static<typeof BasicMethodSchema>;

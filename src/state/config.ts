import { Type, type Static } from '@sinclair/typebox';
import { section } from '../config/types-common.js';

/** The top-level `state` section of the gateway config; src/config/schema.ts only places it. */
export const StateConfigSchema = section(
  {
    backend: Type.Union([Type.Literal('memory'), Type.Literal('redis')], {
      description: 'Where counters, nonces, lockouts and caches live: "memory" (this process only) or "redis" (shared by every worker and gateway)',
      default: 'memory',
    }),
    memory: section(
      {
        maxEntries: Type.Integer({
          description: 'Most entries held per process; the least recently used are evicted beyond it',
          minimum: 100,
          maximum: 10_000_000,
          default: 100_000,
        }),
      },
      'The in-process backend',
    ),
    redis: section(
      {
        url: Type.String({
          description: 'Connection URL, redis://[:password@]host:port[/db] (rediss:// for TLS)',
          default: 'redis://127.0.0.1:6379',
          pattern: '^rediss?://',
          secret: true,
        }),
        keyPrefix: Type.String({
          description: 'Put in front of every key and channel, so several deployments can share one Redis',
          default: 'portcullis:',
          maxLength: 128,
        }),
      },
      'The Redis backend',
    ),
  },
  'Fast shared state for rate-limit counters, nonces, lockouts, revocations and caches',
);

export type StateConfig = Static<typeof StateConfigSchema>;

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
        mode: Type.Union([Type.Literal('standalone'), Type.Literal('cluster'), Type.Literal('sentinel')], {
          description:
            'standalone: one server at `url`. cluster: Redis Cluster seeded from `url` and `nodes`. sentinel: the master ' +
            'named `sentinelName`, found through `sentinels` (the `url` gives only its password and db)',
          default: 'standalone',
        }),
        nodes: Type.Array(Type.String({ pattern: '^[^:]+:[0-9]{1,5}$', maxLength: 256 }), {
          description: 'cluster: more seed nodes as host:port',
          default: [],
          maxItems: 64,
        }),
        sentinels: Type.Array(Type.String({ pattern: '^[^:]+:[0-9]{1,5}$', maxLength: 256 }), {
          description: 'sentinel: the sentinels as host:port',
          default: [],
          maxItems: 16,
        }),
        sentinelName: Type.String({ description: 'sentinel: the master group name', default: 'mymaster', minLength: 1, maxLength: 128 }),
        commandTimeout: Type.Integer({
          description:
            'Milliseconds a command may take before it fails with STATE_UNAVAILABLE (the calling policy then applies its failure mode)',
          minimum: 10,
          maximum: 60_000,
          default: 1000,
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

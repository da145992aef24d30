import { Type, type Static } from '@sinclair/typebox';
import { KEY_PART_PATTERN } from '../../ratelimit/keys.js';

/** A name that is also a valid sf-token inside an sf-string: shown as `"name"` in the RateLimit fields. */
const LimitName = Type.String({ description: 'Names the limit in the RateLimit-Policy and RateLimit headers', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' });

/** `1s`, `10m`, `1h`, `1d`: windows are whole seconds (the RateLimit-Policy `w` parameter is in seconds). */
export const WINDOW_PATTERN = '^[1-9][0-9]{0,6}(s|m|h|d)$';

export const LimitSchema = Type.Object(
  {
    name: LimitName,
    limit: Type.Integer({ description: 'Requests admitted per window', minimum: 1, maximum: 1_000_000_000 }),
    window: Type.String({ description: 'The window, such as "1s", "1m", "1h", "1d"', pattern: WINDOW_PATTERN }),
    algorithm: Type.Union([Type.Literal('gcra'), Type.Literal('sliding-window')], {
      description:
        '"gcra": a token bucket (smooth rate, bursts up to `burst`); "sliding-window": never more than `limit` in any ' +
        'window, estimated from two fixed windows (accuracy over smoothness)',
      default: 'gcra',
    }),
    burst: Type.Optional(
      Type.Integer({ description: 'gcra: requests that may arrive at once (the bucket size); `limit` when absent', minimum: 1, maximum: 1_000_000_000 }),
    ),
    key: Type.Array(Type.String({ pattern: KEY_PART_PATTERN }), {
      description:
        'What the limit counts by, combined: ip, consumer, credential, route, header:<name>, claim:<name>. consumer and ' +
        'credential fall back to the client IP for anonymous requests',
      default: ['route', 'consumer'],
      minItems: 1,
      maxItems: 4,
    }),
  },
  { additionalProperties: false, description: 'One limit' },
);

export const OverrideSchema = Type.Object(
  {
    consumer: Type.Optional(Type.String({ description: 'A consumer id: this override applies to it (before any plan override)', minLength: 1, maxLength: 128 })),
    plan: Type.Optional(Type.String({ description: "A plan: this override applies to consumers on it (the Store's consumer.plan)", minLength: 1, maxLength: 128 })),
    limits: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }), Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), {
      description: 'New `limit` per limit name; a gcra burst scales with it. Limits not named keep theirs',
    }),
    quota: Type.Optional(Type.Integer({ description: 'New quota limit', minimum: 0, maximum: 1_000_000_000_000 })),
  },
  { additionalProperties: false, description: 'Different limits for one consumer or one plan' },
);

export const QuotaSchema = Type.Object(
  {
    name: Type.String({ description: 'Names the quota in headers and in `portcullis usage`', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$', default: 'quota' }),
    limit: Type.Integer({ description: 'Requests per consumer per period', minimum: 0, maximum: 1_000_000_000_000 }),
    period: Type.Union([Type.Literal('day'), Type.Literal('month')], { description: 'Calendar day or month, UTC', default: 'day' }),
    flushInterval: Type.String({
      description: 'How often counts are added to the Store: a crash loses at most this much counting; several processes may overshoot by what they counted in it',
      pattern: '^[1-9][0-9]{0,4}(s|m)$',
      default: '10s',
    }),
  },
  { additionalProperties: false, description: 'A per-consumer quota kept in the Store, so it survives restarts' },
);

export const RateLimitSchema = Type.Object(
  {
    limits: Type.Array(LimitSchema, { description: 'Every limit must admit a request; it then counts against all of them', default: [], maxItems: 8 }),
    overrides: Type.Array(OverrideSchema, { description: 'Per-consumer and per-plan limits; a consumer override wins over a plan override', default: [], maxItems: 1000 }),
    quota: Type.Optional(QuotaSchema),
    headers: Type.Object(
      {
        standard: Type.Boolean({ description: 'Send RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-11)', default: true }),
        legacy: Type.Boolean({ description: 'Also send X-RateLimit-Limit, -Remaining and -Reset for the tightest limit', default: false }),
      },
      { additionalProperties: false, default: {}, description: 'Which headers tell clients about their limits' },
    ),
    ipv6Prefix: Type.Integer({ description: 'IPv6 clients are counted per prefix of this length (a host usually owns a /64)', minimum: 32, maximum: 128, default: 64 }),
    instances: Type.Integer({
      description:
        'Gateway processes (or machines) sharing the limit through Redis. When Redis is unreachable and failureMode is open, each ' +
        'falls back to a local limiter with limit / (instances x workers)',
      minimum: 1,
      maximum: 1000,
      default: 1,
    }),
  },
  { additionalProperties: false, description: 'Rate limits (GCRA or sliding window) and quotas, per client, consumer, route, header or claim' },
);

export type LimitConfig = Static<typeof LimitSchema>;
export type RateLimitConfig = Static<typeof RateLimitSchema>;
export type QuotaConfig = Static<typeof QuotaSchema>;

import { Type, type Static } from '@sinclair/typebox';
import { WINDOW_PATTERN } from '../rate-limit/schema.js';

export const IpRateLimitSchema = Type.Object(
  {
    limits: Type.Array(
      Type.Object(
        {
          name: Type.String({ description: 'Names the limit in the RateLimit headers', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' }),
          limit: Type.Integer({ description: 'Requests admitted per window from one client IP (IPv6: one prefix)', minimum: 1, maximum: 1_000_000_000 }),
          window: Type.String({ description: 'The window, such as "1s", "1m", "1h"', pattern: WINDOW_PATTERN }),
          algorithm: Type.Union([Type.Literal('gcra'), Type.Literal('sliding-window')], { description: 'gcra (bursts) or sliding-window (accuracy)', default: 'gcra' }),
          burst: Type.Optional(Type.Integer({ description: 'gcra: requests that may arrive at once; `limit` when absent', minimum: 1, maximum: 1_000_000_000 })),
        },
        { additionalProperties: false, description: 'One per-IP limit' },
      ),
      { description: 'Every limit must admit a request', minItems: 1, maxItems: 8 },
    ),
    headers: Type.Object(
      {
        standard: Type.Boolean({ description: 'Send RateLimit-Policy and RateLimit', default: false }),
        legacy: Type.Boolean({ description: 'Send X-RateLimit-Limit, -Remaining and -Reset', default: false }),
      },
      { additionalProperties: false, default: {}, description: 'Which headers tell clients about the per-IP limit (off by default: a route limit usually speaks for itself)' },
    ),
    ipv6Prefix: Type.Integer({ description: 'IPv6 clients are counted per prefix of this length', minimum: 32, maximum: 128, default: 64 }),
    instances: Type.Integer({ description: 'Gateway processes sharing the limit through Redis (sizes the local fallback)', minimum: 1, maximum: 1000, default: 1 }),
  },
  { additionalProperties: false, description: 'A per-client-IP rate limit that runs before routing and authentication' },
);

export type IpRateLimitConfig = Static<typeof IpRateLimitSchema>;

import { Type, type Static } from '@sinclair/typebox';

const Limit = Type.Object(
  {
    key: Type.Union([Type.Literal('route'), Type.Literal('consumer'), Type.Literal('ip')], {
      description:
        'What is counted: `route` (every request of the route together), `consumer` (the authenticated consumer, ' +
        'or the client IP for anonymous requests) or `ip` (the client IP resolved through trusted proxies)',
    }),
    max: Type.Integer({ description: 'Requests of one key in flight at once', minimum: 1, maximum: 1_000_000 }),
    status: Type.Optional(
      Type.Union([Type.Literal(429), Type.Literal(503)], {
        description: 'Status when the limit is full: 429 GW_CONCURRENCY_LIMIT or 503 GW_CONCURRENCY_SATURATED (default: 503 for `route`, 429 otherwise)',
      }),
    ),
  },
  { additionalProperties: false, description: 'One in-flight cap' },
);

export const ConcurrencyLimitSchema = Type.Object(
  {
    limits: Type.Array(Limit, {
      description: 'Caps checked together: a request takes a slot in every one or in none',
      minItems: 1,
      maxItems: 8,
    }),
    retryAfter: Type.Integer({
      description: 'Seconds sent in Retry-After when a limit is full (RFC 9110 section 10.2.3)',
      minimum: 1,
      maximum: 3600,
      default: 1,
    }),
  },
  { additionalProperties: false, description: 'In-flight request caps per route, consumer or client IP' },
);

export type ConcurrencyLimitConfig = Static<typeof ConcurrencyLimitSchema>;

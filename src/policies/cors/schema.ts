import { Type, type Static } from '@sinclair/typebox';
import { HTTP_METHODS, HttpMethod } from '../../config/types-common.js';

/** An RFC 9110 section 5.1 field name (a token); compared case-insensitively. */
const HEADER_NAME = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$";

export const CorsSchema = Type.Object(
  {
    origins: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
      description:
        'Origins allowed to read responses: exact ("https://app.example.com"), one-label wildcards ' +
        '("https://*.example.com"), "null" (only when listed), or "*" (any origin, only without credentials). ' +
        'Empty allows no cross-origin reads and strips upstream CORS headers',
      default: [],
      maxItems: 1000,
      uniqueItems: true,
    }),
    methods: Type.Array(HttpMethod, {
      description: 'Methods a preflight may ask for; sent as Access-Control-Allow-Methods',
      default: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      minItems: 1,
      maxItems: HTTP_METHODS.length,
      uniqueItems: true,
    }),
    allowHeaders: Type.Array(Type.String({ pattern: HEADER_NAME }), {
      description: 'Request headers a preflight may ask for; sent as Access-Control-Allow-Headers',
      default: ['accept', 'accept-language', 'content-language', 'content-type', 'authorization', 'x-requested-with'],
      maxItems: 100,
      uniqueItems: true,
    }),
    exposeHeaders: Type.Array(Type.String({ pattern: HEADER_NAME }), {
      description: 'Response headers scripts may read beyond the safelisted ones; sent as Access-Control-Expose-Headers',
      default: [],
      maxItems: 100,
      uniqueItems: true,
    }),
    credentials: Type.Boolean({
      description: 'Let browsers send cookies and HTTP authentication and expose the response (Access-Control-Allow-Credentials)',
      default: false,
    }),
    maxAge: Type.Integer({
      description: 'Seconds a browser may cache a preflight answer (Access-Control-Max-Age); browsers cap it (Chromium at 7200)',
      minimum: 0,
      maximum: 86_400,
      default: 600,
    }),
    preflightStatus: Type.Union([Type.Literal(200), Type.Literal(204)], {
      description: 'Status of a successful preflight answer',
      default: 204,
    }),
  },
  { additionalProperties: false, description: 'Cross-Origin Resource Sharing (Fetch standard, CORS protocol)' },
);

export type CorsConfig = Static<typeof CorsSchema>;

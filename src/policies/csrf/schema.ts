import { Type, type Static } from '@sinclair/typebox';

export const CsrfSchema = Type.Object(
  {
    allowedOrigins: Type.Array(Type.String({ pattern: '^https?://[^/?#]+$', maxLength: 512 }), {
      description: 'Origins besides the request\'s own that may send state-changing requests ("https://app.example.com", no path)',
      default: [],
      maxItems: 1000,
    }),
    cookieNames: Type.Array(Type.String({ pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]{1,128}$' }), {
      description: 'Cookies that authenticate: only requests carrying one are checked. Empty: every request with a Cookie header is checked',
      default: [],
      maxItems: 100,
    }),
    allowSameSite: Type.Boolean({ description: 'Accept Sec-Fetch-Site: same-site (a sibling subdomain) without an allowed Origin', default: false }),
    missingOrigin: Type.Union([Type.Literal('reject'), Type.Literal('allow')], {
      description: 'A state-changing request with cookies but no Origin, Sec-Fetch-Site or Referer (not a current browser): refused, or let through',
      default: 'reject',
    }),
    doubleSubmit: Type.Optional(
      Type.Object(
        {
          cookie: Type.String({ description: 'Cookie holding the CSRF token', pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]{1,128}$', default: 'csrf-token' }),
          header: Type.String({ description: 'Request header that must repeat it', pattern: '^[a-z0-9-]{1,64}$', default: 'x-csrf-token' }),
        },
        { additionalProperties: false, description: 'Double-submit token: state-changing requests must send the cookie value again in a header' },
      ),
    ),
  },
  { additionalProperties: false, description: 'Cross-site request forgery protection for cookie-authenticated routes' },
);

export type CsrfConfig = Static<typeof CsrfSchema>;

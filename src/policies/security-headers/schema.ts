import { Type, type Static } from '@sinclair/typebox';
import { section } from '../../config/types-common.js';

/** Visible ASCII, space and tab: anything else (CR, LF, NUL) would be refused by Node or split the head. */
const HEADER_VALUE = '^[\\t\\x20-\\x7e]*$';
/** An RFC 9110 section 5.1 field name (a token). */
const HEADER_NAME = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$";

const literals = <T extends string>(values: readonly T[], description: string, defaultValue: T) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description, default: defaultValue },
  );

const optionalValue = (description: string, defaultValue: string | null) =>
  Type.Union([Type.String({ minLength: 1, maxLength: 4096, pattern: HEADER_VALUE }), Type.Null()], {
    description: `${description}; null or "off" sends none`,
    default: defaultValue,
  });

export const REFERRER_POLICIES = [
  'no-referrer',
  'no-referrer-when-downgrade',
  'origin',
  'origin-when-cross-origin',
  'same-origin',
  'strict-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
  'off',
] as const;

export const SecurityHeadersSchema = Type.Object(
  {
    override: Type.Boolean({
      description: 'Replace headers the upstream already set; when false the upstream value is kept',
      default: false,
    }),
    hsts: section(
      {
        enabled: Type.Boolean({ description: 'Send Strict-Transport-Security', default: true }),
        maxAge: Type.Integer({
          description: 'max-age in seconds: how long browsers remember to use HTTPS only',
          minimum: 0,
          maximum: 63_072_000,
          default: 31_536_000,
        }),
        includeSubDomains: Type.Boolean({ description: 'Apply to every subdomain too', default: true }),
        preload: Type.Boolean({
          description: 'Add the preload token (needs maxAge >= 31536000 and includeSubDomains)',
          default: false,
        }),
        alwaysSend: Type.Boolean({
          description: 'Send it on plain-HTTP responses too, for gateways behind a TLS-terminating proxy',
          default: false,
        }),
      },
      'Strict-Transport-Security (RFC 6797)',
    ),
    noSniff: Type.Boolean({ description: 'Send X-Content-Type-Options: nosniff', default: true }),
    frameOptions: literals(['DENY', 'SAMEORIGIN', 'off'] as const, 'X-Frame-Options value, or "off" to send none', 'DENY'),
    referrerPolicy: literals(REFERRER_POLICIES, 'Referrer-Policy value, or "off" to send none', 'no-referrer'),
    contentSecurityPolicy: optionalValue(
      'Content-Security-Policy value; the default suits JSON APIs, which never need to load or be framed',
      "default-src 'none'; frame-ancestors 'none'",
    ),
    permissionsPolicy: optionalValue('Permissions-Policy value, such as "camera=(), geolocation=()"', null),
    crossOriginResourcePolicy: literals(
      ['same-origin', 'same-site', 'cross-origin', 'off'] as const,
      'Cross-Origin-Resource-Policy value, or "off" to send none',
      'same-origin',
    ),
    noStoreByDefault: Type.Boolean({
      description: 'Send Cache-Control: no-store when the upstream sent no Cache-Control',
      default: false,
    }),
    removeHeaders: Type.Array(Type.String({ pattern: HEADER_NAME }), {
      description: 'Response headers removed because they only fingerprint the upstream stack',
      default: ['server', 'x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version'],
      maxItems: 64,
      uniqueItems: true,
    }),
  },
  { additionalProperties: false, description: 'Security response headers and fingerprint removal' },
);

export type SecurityHeadersConfig = Static<typeof SecurityHeadersSchema>;

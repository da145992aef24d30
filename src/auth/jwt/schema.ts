import { Type, type Static } from '@sinclair/typebox';
import { ByteSize, Duration, section, strictObject } from '../../config/types-common.js';

/**
 * Algorithms a JWT method may allow (RFC 7518 §3.1, RFC 8037 §3.1, RFC 9864 `Ed25519`). `none` is not
 * in the list, so no config can ever allow it (RFC 8725 §3.1, §2.1).
 */
export const JWT_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
  'HS256', 'HS384', 'HS512',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Asymmetric by default: HMAC needs a shared secret, which an issuer rarely hands a gateway. */
export const DEFAULT_ALGORITHMS: JwtAlgorithm[] = ['RS256', 'ES256', 'EdDSA', 'PS256'];

const B64U = '^[A-Za-z0-9_-]+$';
const HttpUrl = (description: string) =>
  Type.String({ description, pattern: '^https?://[^\\s]+$', maxLength: 2048 });

/**
 * A public JWK (RFC 7517 §4, RFC 7518 §6). Private members (`d`, `p`, `q`, ...) and `oct` keys are
 * refused by the schema: a gateway only ever holds public keys for asymmetric algorithms.
 */
export const PublicJwkSchema = strictObject(
  {
    kty: Type.Union([Type.Literal('RSA'), Type.Literal('EC'), Type.Literal('OKP')], { description: 'Key type (RFC 7517 §4.1)' }),
    kid: Type.Optional(Type.String({ description: 'Key id matched against the token header `kid`', minLength: 1, maxLength: 256 })),
    alg: Type.Optional(Type.String({ description: 'If present, the only algorithm this key verifies (RFC 7517 §4.4)', maxLength: 16 })),
    use: Type.Optional(Type.Literal('sig', { description: 'Public key use; only `sig` (RFC 7517 §4.2)' })),
    key_ops: Type.Optional(Type.Array(Type.String({ maxLength: 16 }), { description: 'Key operations (RFC 7517 §4.3)', maxItems: 8 })),
    n: Type.Optional(Type.String({ description: 'RSA modulus', pattern: B64U, maxLength: 2048 })),
    e: Type.Optional(Type.String({ description: 'RSA exponent', pattern: B64U, maxLength: 16 })),
    crv: Type.Optional(Type.String({ description: 'Curve: P-256, P-384, P-521, Ed25519', maxLength: 16 })),
    x: Type.Optional(Type.String({ description: 'EC / OKP x coordinate', pattern: B64U, maxLength: 128 })),
    y: Type.Optional(Type.String({ description: 'EC y coordinate', pattern: B64U, maxLength: 128 })),
  },
  'A public JSON Web Key',
);

const PemSchema = Type.String({
  description: 'A PEM public key (SPKI, `-----BEGIN PUBLIC KEY-----`)',
  pattern: '^\\s*-----BEGIN PUBLIC KEY-----',
  maxLength: 16_384,
});

export const JwtIssuerSchema = strictObject(
  {
    issuer: Type.String({ description: 'The exact `iss` value of this issuer (RFC 7519 §4.1.1, RFC 8725 §3.8)', minLength: 1, maxLength: 2048 }),
    audiences: Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
      description: 'Accepted `aud` values; a token must name at least one (RFC 7519 §4.1.3, RFC 8725 §3.9)',
      minItems: 1,
      maxItems: 32,
    }),
    algorithms: Type.Array(Type.Union(JWT_ALGORITHMS.map((a) => Type.Literal(a))), {
      description: 'Algorithm allow list (RFC 8725 §3.1). HS* only together with `secret`, and then only HS*',
      default: DEFAULT_ALGORITHMS,
      minItems: 1,
      uniqueItems: true,
    }),
    jwksUri: Type.Optional(HttpUrl('JWKS endpoint (RFC 7517 §5); https, or http on a loopback address')),
    discovery: Type.Optional(
      HttpUrl('OIDC discovery: the issuer URL or its `/.well-known/openid-configuration`; read lazily for `jwks_uri`'),
    ),
    staticKeys: Type.Optional(
      Type.Array(Type.Union([PublicJwkSchema, PemSchema]), { description: 'Public keys as JWK or PEM', minItems: 1, maxItems: 64 }),
    ),
    secret: Type.Optional(
      Type.String({ description: 'Shared HMAC secret for HS256/384/512, at least 32 bytes (RFC 7518 §3.2)', minLength: 32, maxLength: 1024, secret: true }),
    ),
    requireCertificateBinding: Type.Boolean({
      description:
        'Refuse tokens of this issuer that are not certificate-bound (no `cnf.x5t#S256`, RFC 8705 §3). Bound tokens are always checked against the verified client certificate',
      default: false,
    }),
  },
  'One trusted token issuer: exactly one of jwksUri, discovery, staticKeys, secret',
);

export const JwtMethodSchema = strictObject(
  {
    issuers: Type.Array(JwtIssuerSchema, { description: 'Trusted issuers, selected by exact `iss`', minItems: 1, maxItems: 32 }),
    clockSkew: Duration('Leeway for `exp`, `nbf` and `iat` (RFC 7519 §4.1.4)', '30s'),
    requiredClaims: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      description: 'Claims every token must carry (`aud` and `iss` are always required)',
      default: ['exp'],
      maxItems: 32,
    }),
    requireType: Type.Optional(
      Type.String({
        description: 'Required `typ` header, such as "at+jwt" (RFC 9068 §2.1, RFC 8725 §3.11); case-insensitive, "application/" prefix optional',
        minLength: 1,
        maxLength: 64,
      }),
    ),
    maxTokenBytes: ByteSize('Longer tokens are refused before parsing', '8kb'),
    cache: section(
      {
        maxEntries: Type.Integer({ description: 'Verified tokens kept (LRU); 0 disables the cache', default: 10_000, minimum: 0, maximum: 1_000_000 }),
        ttl: Duration('Longest a verified token is trusted without re-verification (never past its `exp`)', '5m'),
      },
      'Cache of verified tokens, keyed by SHA-256 of the token',
    ),
    jwks: section(
      {
        refreshInterval: Duration('Background JWKS refresh period', '10m'),
        minRefetchInterval: Duration('An unknown `kid` re-fetches the JWKS at most this often', '30s'),
        timeout: Duration('Timeout of one JWKS or discovery fetch', '5s'),
      },
      'JWKS fetching and caching',
    ),
    header: Type.String({ description: 'Header carrying `Bearer <token>` (RFC 6750 §2.1), lower case', default: 'authorization', pattern: '^[a-z0-9-]{1,64}$' }),
    scopeClaim: Type.String({ description: 'Claim with the scopes: a space-separated string or an array (`scp` is also read)', default: 'scope', minLength: 1, maxLength: 64 }),
    subjectClaim: Type.String({ description: 'Claim naming the subject', default: 'sub', minLength: 1, maxLength: 64 }),
  },
  'JWT bearer token validation (RFC 7519, RFC 8725, RFC 9068)',
);

export type JwtIssuerConfig = Static<typeof JwtIssuerSchema>;
export type JwtMethodConfig = Static<typeof JwtMethodSchema>;
export type PublicJwk = Static<typeof PublicJwkSchema>;

import { Type, type Static } from '@sinclair/typebox';
import { ByteSize, Duration, section, strictObject } from '../../config/types-common.js';

const HttpUrl = (description: string) => Type.String({ description, pattern: '^https?://[^\\s]+$', maxLength: 2048 });
const Scope = Type.String({ minLength: 1, maxLength: 128, pattern: '^[!#-\\[\\]-~]+$' });

/** A private JWK (RFC 7517 §4, RFC 7518 §6): RSA, EC or OKP with its private member `d`. */
const PrivateJwkSchema = Type.Object(
  {
    kty: Type.Union([Type.Literal('RSA'), Type.Literal('EC'), Type.Literal('OKP')], { description: 'Key type (RFC 7517 §4.1)' }),
    d: Type.String({ description: 'The private member', maxLength: 4096 }),
    kid: Type.Optional(Type.String({ description: 'Key id put in the phantom token header; the RFC 7638 thumbprint when left out', minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: true, description: 'A private JWK (RSA >= 2048 bits, EC P-256/P-384/P-521, Ed25519)' },
);
const PrivatePemSchema = Type.String({ description: 'A PEM private key (PKCS#8 or PKCS#1/SEC1)', pattern: '^\\s*-----BEGIN [A-Z ]*PRIVATE KEY-----', maxLength: 16_384 });
const GenerateSchema = strictObject(
  { generate: Type.Literal(true, { description: 'An ephemeral ES256 key made at load: per process, gone on reload' }) },
  'Generate an ephemeral signing key',
);

export const PhantomSchema = strictObject(
  {
    issuer: Type.String({ description: '`iss` of the phantom tokens; upstreams check it (RFC 9068 §2.2)', minLength: 1, maxLength: 2048 }),
    audience: Type.String({ description: '`aud` of the phantom tokens: the upstream API', minLength: 1, maxLength: 2048 }),
    ttl: Duration('Lifetime of a phantom token (never past the opaque token\'s `exp`)', '60s'),
    signingKey: Type.Union([PrivateJwkSchema, PrivatePemSchema, GenerateSchema], {
      description: 'Private key signing phantom tokens (RS256, ES256/384/512 or EdDSA, from the key type), or { generate: true }',
      secret: true,
    }),
    header: Type.String({ description: 'Upstream header carrying `Bearer <phantom JWT>`, lower case', default: 'authorization', pattern: '^[a-z0-9-]{1,64}$' }),
    claims: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      description: 'Introspection response members copied into the phantom token (iss, aud, iat, jti and typ are always ours)',
      default: ['sub', 'scope', 'client_id', 'exp'],
      maxItems: 32,
    }),
  },
  'Phantom tokens: the upstream receives a signed JWT describing the caller instead of the opaque token',
);

export const IntrospectionMethodSchema = strictObject(
  {
    endpoint: HttpUrl('RFC 7662 §2 introspection endpoint; https, or http on a loopback address'),
    clientId: Type.String({ description: "The gateway's client id at the OAuth server", minLength: 1, maxLength: 256 }),
    clientSecret: Type.String({ description: 'Its secret, sent with client_secret_basic (RFC 6749 §2.3.1)', minLength: 1, maxLength: 1024, secret: true }),
    timeout: Duration('Timeout of one introspection call; a timeout is an infrastructure fault', '3s'),
    jwtResponse: Type.Boolean({ description: 'Ask for and verify an RFC 9701 signed JWT response (needs issuer and jwksUri)', default: false }),
    issuer: Type.Optional(Type.String({ description: 'The OAuth server\'s issuer: `iss` of JWT responses (RFC 9701 §5)', minLength: 1, maxLength: 2048 })),
    jwksUri: Type.Optional(HttpUrl('JWKS of the OAuth server, verifying JWT responses; https, or http on a loopback address')),
    requiredScopes: Type.Optional(
      Type.Union([Type.Array(Scope, { maxItems: 32 }), Type.String({ maxLength: 4096 })], {
        description: 'Scopes the token must carry (RFC 6749 §3.3), a list or one space-separated string; checked on every request, cached or not',
      }),
    ),
    requireCertificateBinding: Type.Boolean({
      description:
        'Refuse active tokens that are not certificate-bound (no `cnf.x5t#S256` in the answer, RFC 8705 §3). Bound tokens are always checked against the verified client certificate',
      default: false,
    }),
    forwardToken: Type.Boolean({ description: 'Forward the opaque token to the upstream (stripped by default; never with phantom)', default: false }),
    maxTokenBytes: ByteSize('Longer tokens are refused without an introspection call', '4kb'),
    cache: section(
      {
        positiveTtl: Duration('Longest an active answer is reused (never past the token\'s `exp`)', '60s'),
        negativeTtl: Duration('How long an inactive answer is reused', '5s'),
        maxEntries: Type.Integer({ description: 'Answers kept in process (LRU); 0 disables the in-process cache', default: 10_000, minimum: 0, maximum: 1_000_000 }),
      },
      'Introspection answers, keyed by SHA-256 of the token, in process and in the StateStore',
    ),
    phantom: Type.Optional(PhantomSchema),
  },
  'OAuth 2.0 token introspection of opaque bearer tokens (RFC 7662, RFC 9701, RFC 6750), with phantom tokens',
);

export type IntrospectionMethodConfig = Static<typeof IntrospectionMethodSchema>;
export type PhantomConfig = Static<typeof PhantomSchema>;

import { Type, type Static } from '@sinclair/typebox';
import { Duration, section, strictObject } from '../config/types-common.js';
import { StorageConfigSchema } from '../storage/config.js';

/**
 * Config of the bundled OAuth server (`portcullis auth-server`). Exported on its own so the
 * gateway config can embed it as an optional top-level `authServer` section.
 */

/** RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const ScopeToken = Type.String({
  description: 'A scope value (RFC 6749 section 3.3: printable ASCII without space, `"` or `\\`)',
  pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$',
  minLength: 1,
  maxLength: 128,
});

/** RFC 8707 section 2: an absolute URI without a fragment. Checked further by the loader. */
const ResourceIndicator = Type.String({
  description: 'A resource indicator (RFC 8707): an absolute URI without a fragment, such as "https://api.example.com/"',
  format: 'uri',
  pattern: '^[^#]*$',
  maxLength: 2048,
});

export const AuthServerClientSchema = strictObject(
  {
    clientId: Type.String({ description: 'The client identifier (RFC 6749 section 2.2)', pattern: '^[A-Za-z0-9._~-]+$', minLength: 1, maxLength: 128 }),
    clientSecret: Type.String({
      description: 'The client secret, for client_secret_basic or client_secret_post (RFC 6749 section 2.3.1); use ${ENV:NAME}',
      minLength: 8,
      maxLength: 512,
      secret: true,
    }),
    grantTypes: Type.Array(Type.Literal('client_credentials'), {
      description: 'Grants the client may use (RFC 6749 section 4.4: client credentials)',
      minItems: 1,
      uniqueItems: true,
      default: ['client_credentials'],
    }),
    scopes: Type.Array(ScopeToken, { description: 'Scopes the client may request', uniqueItems: true, maxItems: 256, default: [] }),
    introspection: Type.Boolean({
      description: 'May call the introspection endpoint (RFC 7662) and see other clients\' tokens; give this only to the gateway',
      default: false,
    }),
    resources: Type.Array(ResourceIndicator, {
      description: 'Resource indicators (entries of `resources`) the client may request tokens for',
      uniqueItems: true,
      maxItems: 256,
      default: [],
    }),
  },
  'One OAuth client registered with the bundled server',
);

export const AuthServerResourceSchema = strictObject(
  {
    indicator: ResourceIndicator,
    accessTokenFormat: Type.Union([Type.Literal('jwt'), Type.Literal('opaque')], {
      description: '"jwt": RFC 9068 JWT access tokens the gateway verifies locally; "opaque": tokens checked by introspection',
      default: 'opaque',
    }),
    scopes: Type.Array(ScopeToken, {
      description: 'Scopes defined on this resource server; a token for it carries only these',
      uniqueItems: true,
      maxItems: 256,
      default: [],
    }),
    audience: Type.Optional(Type.String({ description: 'The `aud` of its tokens; the indicator itself when left out', minLength: 1, maxLength: 2048 })),
    accessTokenTTL: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1000, maximum: 86_400_000 }), Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$' })], {
        description: 'Lifetime of access tokens for this resource, such as "5m"; `tokens.accessTokenTTL` when left out',
      }),
    ),
  },
  'A resource server (API) clients may ask tokens for with the `resource` parameter (RFC 8707)',
);

/** A private JWK as in RFC 7517; checked for a usable private key by the loader. */
const PrivateJwk = Type.Object(
  { kty: Type.String({ description: 'Key type: RSA, EC or OKP' }) },
  { additionalProperties: true, description: 'A private JSON Web Key (RFC 7517)' },
);

// No default on the root: embedded as an optional `authServer` section it must stay absent when unset.
export const AuthServerSchema = strictObject(
  {
    issuer: Type.Optional(
      Type.String({
        description: 'The issuer identifier (RFC 8414 section 2): https URL, no query or fragment; http://<listen host>:<port> when left out',
        format: 'uri',
        maxLength: 2048,
      }),
    ),
    listen: section(
      {
        host: Type.String({ description: 'Address to listen on', default: '127.0.0.1', minLength: 1, maxLength: 255 }),
        port: Type.Integer({ description: 'Port to listen on (0 picks a free one)', minimum: 0, maximum: 65535, default: 9000 }),
      },
      'Where the OAuth server listens',
    ),
    trustProxy: Type.Boolean({ description: 'Trust X-Forwarded-* from a TLS-terminating proxy in front', default: false }),
    scopes: Type.Array(ScopeToken, {
      description: 'Extra scopes the server knows; every scope of a client or resource is known anyway',
      uniqueItems: true,
      maxItems: 1024,
      default: [],
    }),
    clients: Type.Array(AuthServerClientSchema, { description: 'Registered clients', maxItems: 10_000, default: [] }),
    resources: Type.Array(AuthServerResourceSchema, { description: 'Resource servers; a token without `resource` is opaque', maxItems: 1024, default: [] }),
    tokens: section(
      { accessTokenTTL: Duration('Lifetime of access tokens (client credentials grant)', '10m') },
      'Token lifetimes',
    ),
    keys: section(
      {
        jwksFile: Type.Optional(Type.String({ description: 'Path to a JSON Web Key Set file with the private signing keys (relative to this file)', minLength: 1 })),
        jwks: Type.Optional(
          Type.Array(PrivateJwk, { description: 'Private signing keys inline (JWK); the first one signs', minItems: 1, maxItems: 16, secret: true }),
        ),
      },
      'Signing keys for JWT access tokens and JWT introspection responses; an ephemeral key is generated when none is set',
    ),
    storage: section(
      {
        backend: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres'), Type.Literal('memory')], {
          description:
            'Where tokens and grants live: "sqlite" or "postgres" (a Store, the gateway\'s own by default: tokens survive a restart, revocations persist) or "memory" (lost on restart, bounded by state.maxEntries)',
          default: 'sqlite',
        }),
        // The gateway's own settings and defaults, so a standalone auth-server config beside a gateway
        // config shares the gateway's database file unless told otherwise.
        sqlite: StorageConfigSchema.properties.sqlite,
        postgres: StorageConfigSchema.properties.postgres,
        purgeInterval: Duration('How often expired records are deleted from the Store', '1m'),
      },
      'Token state of the server: the Store (SQLite or PostgreSQL, migrated on start) or memory',
    ),
    state: section(
      {
        maxEntries: Type.Integer({
          description: 'Most tokens and records kept in memory when storage.backend is "memory"; the oldest go first',
          minimum: 100,
          maximum: 10_000_000,
          default: 100_000,
        }),
      },
      'Token state held in memory (storage.backend "memory")',
    ),
  },
  'The bundled OAuth 2.0 authorization server (`portcullis auth-server`)',
);

export type AuthServerConfig = Static<typeof AuthServerSchema>;
export type AuthServerClient = Static<typeof AuthServerClientSchema>;
export type AuthServerResource = Static<typeof AuthServerResourceSchema>;

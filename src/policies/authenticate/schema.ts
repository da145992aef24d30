import { Type, type Static } from '@sinclair/typebox';

const HeaderName = (description: string) => Type.String({ description, pattern: '^[a-z0-9-]{1,64}$' });

const Counter = (what: string, threshold: number) =>
  Type.Object(
    {
      threshold: Type.Integer({ default: threshold, minimum: 1, maximum: 100_000, description: `Failures per ${what} within the window that lock it out` }),
      windowSeconds: Type.Integer({ default: 60, minimum: 1, maximum: 86_400, description: 'Window in which failures are counted, from the first failure' }),
    },
    { additionalProperties: false, default: {}, description: `Failures counted per ${what}` },
  );

export const AuthenticateSchema = Type.Object(
  {
    methods: Type.Array(
      Type.Object(
        {
          type: Type.String({ description: 'Authentication method: jwt, introspection, api-key, basic, http-signature, mtls' }),
          config: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: "The method's own settings, validated against its schema at load" }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 8, description: 'Methods tried in order' },
    ),
    combine: Type.Union([Type.Literal('any'), Type.Literal('all')], {
      default: 'any',
      description: 'any: the first method that authenticates wins; all: every method must authenticate (e.g. mTLS and JWT)',
    }),
    anonymous: Type.Optional(
      Type.Object(
        { consumerId: Type.String({ description: 'Consumer id given to requests without any credential', minLength: 1, maxLength: 128 }) },
        { additionalProperties: false, description: 'Let requests without credentials through as this consumer. A wrong credential is still refused.' },
      ),
    ),
    identityHeaders: Type.Object(
      {
        subject: HeaderName('Upstream header carrying the subject'),
        consumer: HeaderName('Upstream header carrying the consumer id'),
        scopes: HeaderName('Upstream header carrying the granted scopes, space-separated'),
        method: HeaderName('Upstream header carrying the authentication method'),
      },
      {
        additionalProperties: false,
        default: { subject: 'x-auth-subject', consumer: 'x-consumer-id', scopes: 'x-auth-scopes', method: 'x-auth-method' },
        description: 'Identity passed to the upstream; client copies of these headers are always removed',
      },
    ),
    lockout: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Count failed authentications and lock out sources that fail too often' }),
        perIp: Counter('client IP', 10),
        perCredential: Counter('credential (key id, token hash prefix; never the secret)', 5),
        countMissing: Type.Boolean({
          default: false,
          description: 'Also count requests with no credential at all (per client IP). Off by default: a client that forgot its key is not an attacker',
        }),
        baseSeconds: Type.Integer({ default: 30, minimum: 1, maximum: 86_400, description: 'Length of the first lockout; each consecutive lockout of the same source doubles it' }),
        maxSeconds: Type.Integer({ default: 3_600, minimum: 1, maximum: 86_400, description: 'Longest lockout, however many times the source was locked out' }),
        decaySeconds: Type.Integer({
          default: 86_400,
          minimum: 60,
          maximum: 2_592_000,
          description: 'How long the lockout level (the doubling) is remembered after the last lockout; after that the next lockout is baseSeconds again',
        }),
        lockoutStatus: Type.Union([Type.Literal(429), Type.Literal(401)], {
          default: 429,
          description: '429: GW_AUTHN_LOCKED with Retry-After; 401: GW_AUTHN_INVALID, indistinguishable from a wrong credential',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'Brute-force protection, shared through the StateStore (cluster-wide on Redis). Counters and lockouts are shared by every route; each route applies its own limits. Fails open when the StateStore is down',
      },
    ),
    realm: Type.String({ default: 'portcullis', pattern: '^[A-Za-z0-9 ._-]{1,64}$', description: 'realm in WWW-Authenticate challenges' }),
  },
  { additionalProperties: false, description: 'Authentication settings' },
);

export type AuthenticateConfig = Static<typeof AuthenticateSchema>;

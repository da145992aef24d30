import { Type, type Static } from '@sinclair/typebox';

const HeaderName = (description: string) => Type.String({ description, pattern: '^[a-z0-9-]{1,64}$' });

export const AuthenticateSchema = Type.Object(
  {
    methods: Type.Array(
      Type.Object(
        {
          type: Type.String({ description: 'Authentication method: jwt, introspection, api-key (more to come: mtls, http-signature, basic)' }),
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
    realm: Type.String({ default: 'portcullis', pattern: '^[A-Za-z0-9 ._-]{1,64}$', description: 'realm in WWW-Authenticate challenges' }),
  },
  { additionalProperties: false, description: 'Authentication settings' },
);

export type AuthenticateConfig = Static<typeof AuthenticateSchema>;

import { Type, type Static } from '@sinclair/typebox';
import { ByteSize, Duration, HttpMethod } from '../../config/types-common.js';

const Names = (description: string, max = 64) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: max, description });
const Methods = Type.Optional(Type.Array(HttpMethod, { minItems: 1, description: 'Methods this applies to; every method when absent' }));
const HeaderName = (description: string, name: string) => Type.String({ description, default: name, pattern: '^[a-z0-9-]{1,64}$' });
/** A property path: dot path (`items[].price`, `a.*.b`) or JSON pointer (`/items/*\/price`). */
const PropertyPath = Type.String({ minLength: 1, maxLength: 512, description: 'Dot path (`account.balance`, `items[].price`, `*` for any key) or JSON pointer (`/items/*/price`)' });
const Unless = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
  default: [],
  maxItems: 64,
  description: 'Groups (roles) this does not apply to: an administrator override',
});

const Rule = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'Rule name: logged with every decision it makes, never sent to clients' }),
    effect: Type.Union([Type.Literal('allow'), Type.Literal('deny')], { default: 'allow', description: 'What the rule decides when all its conditions hold' }),
    methods: Methods,
    scopes: Type.Optional(Names('Scopes the principal must hold (see scopesMatch)')),
    scopesMatch: Type.Union([Type.Literal('any'), Type.Literal('all')], { default: 'all', description: 'any: one of `scopes` is enough; all: every one is needed' }),
    groups: Type.Optional(Names('Groups (roles) the principal must belong to (see groupsMatch)')),
    groupsMatch: Type.Union([Type.Literal('any'), Type.Literal('all')], { default: 'any', description: 'any: one of `groups` is enough; all: every one is needed' }),
    when: Type.Optional(
      Type.String({ minLength: 1, maxLength: 4096, description: 'A CEL expression over `request` and `principal` that must be true; type-checked at load' }),
    ),
  },
  { additionalProperties: false, description: 'A rule: decides (allow or deny) when every condition given holds' },
);

const Binding = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'Binding name, logged with its denials' }),
    source: Type.Union([Type.Literal('param'), Type.Literal('query'), Type.Literal('header'), Type.Literal('body')], {
      description: 'Where the object id is: a path parameter, a query parameter, a request header (a tenant id, say) or a JSON body field',
    }),
    field: Type.String({ minLength: 1, maxLength: 256, description: 'Parameter or header name (lower case), or a dot path into the JSON body' }),
    equals: Type.String({
      pattern: '^(subject|consumer|claims\\.[A-Za-z0-9_.:-]{1,200})$',
      default: 'subject',
      description: 'Principal attribute the value must equal: subject, consumer, or claims.<dot path>',
    }),
    methods: Methods,
    unlessGroups: Unless,
    ifMissing: Type.Union([Type.Literal('deny'), Type.Literal('allow')], { default: 'deny', description: 'What a request without the field gets' }),
  },
  { additionalProperties: false, description: 'Object ownership: the value must equal a principal attribute (OWASP API1)' },
);

const OwnershipService = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Endpoint asked by POST with {subject, consumer, method, path, params, route}; 200 with {"allowed": true} allows' }),
    timeout: Duration('Time the endpoint has to answer; past it the check fails (closed: 503)', '500ms'),
    cacheTtl: Duration('How long an answer is remembered per (subject, method, path)', '30s'),
    cacheMaxEntries: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 10_000, description: 'Answers cached at most (least recently used go first); 0 disables' }),
    methods: Methods,
    unlessGroups: Unless,
  },
  { additionalProperties: false, description: 'Ownership decided by an HTTP call to a service that knows who owns what' },
);

const PropertyRule = Type.Object(
  {
    paths: Type.Array(PropertyPath, { minItems: 1, maxItems: 256, description: 'Properties covered' }),
    methods: Methods,
    unlessGroups: Unless,
  },
  { additionalProperties: false, description: 'Properties a principal may not write (or read) unless it is in one of `unlessGroups`' },
);

export const AuthorizeSchema = Type.Object(
  {
    rules: Type.Array(Rule, {
      default: [],
      maxItems: 256,
      description: 'Ordered rules: the first whose conditions all hold decides. When none does, the request is denied',
    }),
    claims: Type.Object(
      {
        scopes: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
          default: ['scope', 'scp'],
          maxItems: 8,
          description: 'Claim dot paths holding scopes (space-separated string or array), added to the authenticated scopes',
        }),
        groups: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
          default: ['groups', 'roles', 'realm_access.roles'],
          maxItems: 8,
          description: 'Claim dot paths holding groups or roles (space-separated string or array); API keys take them from the consumer',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Where scopes and groups are read from JWT or introspection claims' },
    ),
    ownership: Type.Object(
      {
        bindings: Type.Array(Binding, { default: [], maxItems: 32, description: 'Declarative ownership checks, all of which must pass' }),
        service: Type.Optional(OwnershipService),
      },
      { additionalProperties: false, default: {}, description: 'Object-level authorization (checked after an allow rule)' },
    ),
    properties: Type.Object(
      {
        write: Type.Array(PropertyRule, { default: [], maxItems: 64, description: 'Request JSON body properties that may not be sent (mass assignment, OWASP API3)' }),
        read: Type.Array(PropertyRule, { default: [], maxItems: 64, description: 'Response JSON body properties removed before the client sees them' }),
        writeDeniedStatus: Type.Union([Type.Literal(403), Type.Literal(400)], {
          default: 403,
          description: '403: GW_AUTHZ_DENIED; 400: GW_BODY_PROPERTY_DENIED. Neither says which property',
        }),
        maxBodyBytes: ByteSize('Largest request body read to check properties or body bindings', '1mb'),
        maxResponseBytes: ByteSize('Largest response body read to remove properties; larger ones are refused (502)', '4mb'),
      },
      { additionalProperties: false, default: {}, description: 'Property-level authorization' },
    ),
    identityHeaders: Type.Object(
      {
        rule: HeaderName('Upstream header carrying the name of the rule that allowed the request', 'x-authz-rule'),
        groups: HeaderName('Upstream header carrying the groups, space-separated', 'x-authz-groups'),
        scopes: HeaderName('Upstream header carrying the effective scopes, space-separated', 'x-authz-scopes'),
        consumer: HeaderName('Upstream header carrying the consumer id', 'x-authz-consumer'),
        subject: HeaderName('Upstream header carrying the subject', 'x-authz-subject'),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Decision context passed to the upstream; client copies of these headers are always removed',
      },
    ),
  },
  { additionalProperties: false, description: 'Authorization settings' },
);

export type AuthorizeConfig = Static<typeof AuthorizeSchema>;
export type RuleConfig = Static<typeof Rule>;
export type BindingConfig = Static<typeof Binding>;
export type OwnershipServiceConfig = Static<typeof OwnershipService>;
export type PropertyRuleConfig = Static<typeof PropertyRule>;

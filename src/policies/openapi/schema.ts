import { Type, type Static } from '@sinclair/typebox';
import { ByteSize, section } from '../../config/types-common.js';
import { JsonLimitFields } from '../json-limits/schema.js';

const Choice = <T extends string>(values: readonly T[], description: string, defaultValue: T) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description, default: defaultValue },
  );

export const SENSITIVE_KINDS = ['card', 'email', 'jwt', 'api-key', 'private-key', 'us-ssn'] as const;

export const OpenApiSchema = Type.Object(
  {
    spec: Type.String({
      description: 'Path of the OpenAPI 3.0 or 3.1 description (JSON or YAML), relative to the config file; `$ref`s to other local files are followed',
      minLength: 1,
      maxLength: 4096,
    }),
    basePath: Type.String({
      description: 'Prefix in front of every spec path as clients call it (for example "/api" when the spec says "/pets" and clients call "/api/pets")',
      default: '',
      pattern: '^(/[^{}?#]*[^/{}?#])?$',
      maxLength: 1024,
    }),
    unknownQueryParameters: Choice(['reject', 'allow'], 'A query parameter the operation does not declare: refused (400) or passed on', 'reject'),
    unknownBodyProperties: Choice(
      ['reject', 'allow', 'remove'] as const,
      'A body property an object schema does not declare: "reject" treats object schemas that are silent about additionalProperties as closed; "remove" closes them too but deletes such properties from JSON bodies before forwarding (the body is re-serialised; form fields are refused as with reject); "allow" follows the spec as written',
      'allow',
    ),
    json: section(JsonLimitFields, 'Hostile-JSON limits for request bodies (see json-limits); a json-limits policy that parsed the body first wins'),
    forms: section(
      {
        maxBytes: ByteSize('Largest urlencoded or multipart body read', '10mb'),
        maxFields: Type.Integer({ description: 'Most fields in a form (urlencoded or multipart)', minimum: 1, maximum: 100_000, default: 1000 }),
        maxFiles: Type.Integer({ description: 'Most file parts in a multipart body', minimum: 0, maximum: 10_000, default: 10 }),
        maxFieldBytes: ByteSize('Largest value of one non-file field', '64kb'),
        maxFileBytes: ByteSize('Largest file part', '10mb'),
      },
      'Limits for application/x-www-form-urlencoded and multipart/form-data request bodies',
    ),
    responses: section(
      {
        validate: Type.Boolean({ description: 'Check JSON responses against the schema declared for their status and content type', default: true }),
        invalid: Choice(['block', 'report'], 'A response that does not match its declared schema: answered 502 GW_RESPONSE_INVALID, or logged and passed on', 'block'),
        undeclaredResponses: Choice(
          ['block', 'report'],
          'A JSON response whose status and content type the operation does not declare (no matching code, range or default): answered 502 GW_RESPONSE_INVALID, or logged and passed on',
          'report',
        ),
        undeclaredProperties: Choice(
          ['remove', 'report'],
          'Properties the response schema does not declare (excessive data exposure): removed, or logged and passed on. writeOnly properties are always removed',
          'remove',
        ),
        maxBytes: ByteSize('Largest response body inspected; a larger one is answered 502 rather than passed unchecked', '1mb'),
        sensitiveData: section(
          {
            kinds: Type.Array(Type.Union(SENSITIVE_KINDS.map((k) => Type.Literal(k))), {
              description: 'What to look for in JSON response strings: card (a Luhn-valid card number), email, jwt, api-key (pcl_ keys), private-key (PEM), us-ssn',
              default: [],
              uniqueItems: true,
            }),
            action: Choice(['mask', 'block', 'report'], 'What a match does: masked in place, the response answered 502, or only logged', 'mask'),
          },
          'Sensitive data detection in responses',
        ),
        hideUpstreamErrors: Type.Boolean({
          description: 'Replace 5xx upstream bodies that look like stack traces or internals with a generic problem+json',
          default: true,
        }),
      },
      'Response protection',
    ),
  },
  { additionalProperties: false, description: 'OpenAPI positive security model: only what the spec declares passes, and responses leak no more than it declares' },
);

export type OpenApiConfig = Static<typeof OpenApiSchema>;

import { Type, type Static } from '@sinclair/typebox';
import { ByteSize } from '../../config/types-common.js';
import { DEFAULT_JSON_LIMITS } from '../../core/json-scan.js';

/** The structure limits of a JSON body (core/json-scan.ts), shared by `json-limits` and `openapi`. */
export const JsonLimitFields = {
  maxDepth: Type.Integer({
    description: 'Deepest nesting of objects and arrays (the top-level value is depth 1)',
    minimum: 1,
    maximum: 1000,
    default: DEFAULT_JSON_LIMITS.maxDepth,
  }),
  maxKeys: Type.Integer({ description: 'Most keys in one JSON object', minimum: 1, maximum: 1_000_000, default: DEFAULT_JSON_LIMITS.maxKeys }),
  maxStringLength: Type.Integer({
    description: 'Longest JSON string (keys and values), in characters as written',
    minimum: 1,
    maximum: 100_000_000,
    default: DEFAULT_JSON_LIMITS.maxStringLength,
  }),
  maxArrayLength: Type.Integer({
    description: 'Most elements in one JSON array',
    minimum: 1,
    maximum: 100_000_000,
    default: DEFAULT_JSON_LIMITS.maxArrayLength,
  }),
  maxBytes: ByteSize('Largest JSON body read (413 above it; never more than the route\'s request-size-limit)', '1mb'),
};

export const JsonLimitsSchema = Type.Object(JsonLimitFields, {
  additionalProperties: false,
  description:
    'Refuses hostile JSON request bodies before they are parsed: depth, keys, string and array lengths, size, ' +
    'duplicate keys and __proto__/constructor/prototype keys',
});

export type JsonLimitsConfig = Static<typeof JsonLimitsSchema>;

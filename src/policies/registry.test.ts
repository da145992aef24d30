import { describe, it, expect } from 'vitest';
import type { TSchema } from '@sinclair/typebox';
import { configValidator } from '../config/ajv.js';
import { BUILTIN_POLICIES, createRegistry } from './registry.js';

/** Every object schema under `schema`, with its path, so the conventions can be checked field by field. */
function objects(schema: TSchema, path: string, out: [string, TSchema][] = []): [string, TSchema][] {
  if (schema['type'] === 'object') {
    out.push([path, schema]);
    for (const [key, child] of Object.entries((schema['properties'] ?? {}) as Record<string, TSchema>)) objects(child, `${path}.${key}`, out);
  }
  return out;
}

describe('built-in policy registry', () => {
  it('registers the gateway policies under unique names', () => {
    const registry = createRegistry();
    for (const name of ['ip-restriction', 'request-size-limit', 'allowed-methods', 'cors', 'security-headers']) {
      expect(registry.get(name)?.name).toBe(name);
    }
  });

  for (const descriptor of BUILTIN_POLICIES) {
    it(`${descriptor.name}: schema compiles under strict Ajv, closes every object and describes every field`, () => {
      expect(() => configValidator(descriptor.schema)).not.toThrow();
      for (const [path, object] of objects(descriptor.schema, descriptor.name)) {
        expect(object['additionalProperties'], path).toBe(false);
        for (const [key, field] of Object.entries(object['properties'] as Record<string, TSchema>)) {
          expect(typeof field['description'], `${path}.${key}`).toBe('string');
        }
      }
    });
  }
});

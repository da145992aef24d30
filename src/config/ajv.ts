import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';

// ajv-formats ships CommonJS with a default export; under NodeNext it arrives one level down.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/** One Ajv for config: defaults filled in, every error reported, `secret` accepted as an annotation. */
function createConfigAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'secret', schemaType: 'boolean' });
  return ajv;
}

const ajv = createConfigAjv();
const compiled = new WeakMap<TSchema, ValidateFunction>();

export function configValidator(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (fn === undefined) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/** A readable message for one Ajv error, without echoing whole values back. */
export function describeAjvError(error: ErrorObject): string {
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown field "${String(error.params.additionalProperty)}"`;
    case 'required':
      return `missing required field "${String(error.params.missingProperty)}"`;
    case 'enum':
      return `must be one of ${JSON.stringify(error.params.allowedValues)}`;
    case 'const':
      return `must be ${JSON.stringify(error.params.allowedValue)}`;
    case 'anyOf': {
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      return description === undefined ? 'has an invalid value' : `has an invalid value: expected ${description}`;
    }
    default:
      return error.message ?? error.keyword;
  }
}

/**
 * Ajv reports every branch of a failed union; keep the most useful ones: drop the generic
 * "must match a schema in anyOf" when a branch said something more specific at the same place.
 */
export function usefulErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const anyOfAt = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  for (const e of errors) {
    if (anyOfAt.has(e.instancePath) && e.keyword !== 'anyOf') continue;
    const key = e.instancePath + '|' + describeAjvError(e);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { dirname, resolve } from 'node:path';
import { deref, fileUrl, refsIn, SpecError, type JsonObject, type LoadedSpec, type Located } from './spec-loader.js';

// ajv-formats ships CommonJS with a default export; under NodeNext it arrives one level down.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/**
 * What a compiled schema is for. Each purpose has its own Ajv, because OpenAPI gives the same
 * schema different meanings by direction (OpenAPI 3.1 section 4.8.24 / 3.0 "readOnly", "writeOnly"):
 * - `body`: request bodies; a `readOnly` property sent by a client is an error.
 * - `param`: parameters and form fields; strings from the URL, headers and forms are coerced to the
 *   declared types (a single value to a one-element array too).
 * - `response`: response bodies; `writeOnly` properties are removed and, with `removeAdditional`,
 *   every property the schema does not declare (excessive data exposure, OWASP API3).
 */
export type SchemaPurpose = 'body' | 'param' | 'response';

export interface SpecAjvOptions {
  /**
   * Request object schemas that say nothing about `additionalProperties`: `allow` follows the spec;
   * `reject` closes them (`additionalProperties: false`); `remove` closes them too and, in JSON
   * bodies, deletes undeclared properties instead of refusing them (Ajv `removeAdditional: true`:
   * only where `additionalProperties` is false, so a declared map stays whole). Forms and
   * parameters cannot be re-encoded, so there `remove` refuses as `reject` does.
   */
  readonly unknownProperties: 'allow' | 'reject' | 'remove';
}

/** OpenAPI 3.0 formats that JSON Schema does not define; checked loosely or not at all (annotations). */
const OPENAPI_FORMATS: Record<string, RegExp | true | ((value: number) => boolean)> = {
  int32: (v: number) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647,
  int64: (v: number) => Number.isInteger(v),
  float: true,
  double: true,
  byte: /^[A-Za-z0-9+/]*={0,2}$/,
  binary: true,
  password: true,
};

function createAjv(version: LoadedSpec['version'], purpose: SchemaPurpose, options: SpecAjvOptions): Ajv {
  const base: Options = {
    strict: false,
    // Clients get every problem with their request; a response only needs a verdict (and compiles to less code).
    allErrors: purpose !== 'response',
    validateSchema: false,
    messages: true,
    coerceTypes: purpose === 'param' ? 'array' : false,
    // Responses: undeclared properties removed (the `report` setting validates a copy and compares).
    // Request bodies with `remove`: stripped where the (closed) schema says additionalProperties: false.
    removeAdditional: purpose === 'response' ? 'all' : purpose === 'body' && options.unknownProperties === 'remove',
    // Ajv's default only compiles regexes it can make safe; user patterns come from the spec author, not the client.
    unicodeRegExp: true,
    // Ajv's code optimisation pass took ~40% of compiling 1,000 operations (bench/openapi.mjs: about
    // 2.6 s -> 1.5 s CPU) and made no measurable difference to validating the 1 KB bench body (1.2 us).
    code: { optimize: false },
  };
  const ajv = version === '3.1' ? (new Ajv2020(base) as unknown as Ajv) : new Ajv(base);
  addFormats(ajv);
  for (const [name, format] of Object.entries(OPENAPI_FORMATS)) {
    if (typeof format === 'function') ajv.addFormat(name, { type: 'number', validate: format });
    else ajv.addFormat(name, format);
  }
  if (purpose === 'body') {
    ajv.removeKeyword('readOnly');
    // Evaluated only where the property is present: a client must not send what the server owns.
    ajv.addKeyword({ keyword: 'readOnly', schemaType: 'boolean', validate: (readOnly: boolean) => !readOnly, error: { message: 'is read-only' } });
  }
  if (purpose === 'response') {
    ajv.removeKeyword('writeOnly');
    ajv.addKeyword({
      keyword: 'writeOnly',
      schemaType: 'boolean',
      modifying: true,
      validate: (writeOnly: boolean, _data: unknown, _schema: unknown, cxt?: { parentData: unknown; parentDataProperty: string | number }) => {
        if (writeOnly && cxt !== undefined && cxt.parentData !== null && typeof cxt.parentData === 'object') {
          delete (cxt.parentData as Record<string | number, unknown>)[cxt.parentDataProperty];
        }
        return true;
      },
    });
  }
  return ajv;
}

/** Adds `additionalProperties: false` where an object schema declares properties but is silent on the rest. */
function closeObjects(document: unknown): void {
  const stack = [document];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
      continue;
    }
    const object = value as JsonObject;
    const props = object.properties;
    if (props !== null && typeof props === 'object' && !Array.isArray(props) && object.additionalProperties === undefined && object.unevaluatedProperties === undefined) {
      object.additionalProperties = false;
    }
    for (const [key, child] of Object.entries(object)) {
      if (key !== 'example' && key !== 'examples' && key !== 'default' && key !== 'enum' && key !== 'const') stack.push(child);
    }
  }
}

/** Every `$ref` target, as file -> JSON Pointers (the documents were all loaded, so targets resolve). */
function collectRefTargets(spec: LoadedSpec): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [file, document] of spec.documents) {
    for (const { ref } of refsIn(document)) {
      const hash = ref.indexOf('#');
      const pointer = hash === -1 ? '' : ref.slice(hash + 1);
      if (pointer === '') continue;
      const target = hash === 0 ? file : resolve(dirname(file), decodeURIComponent(ref.slice(0, hash)));
      let set = out.get(target);
      if (set === undefined) out.set(target, (set = new Set()));
      set.add(pointer);
    }
  }
  return out;
}

function valueAt(document: unknown, pointer: string): unknown {
  let value = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, token)) return undefined;
    value = (value as JsonObject)[token];
  }
  return value;
}

/** Compiles schemas of one spec for one purpose, all documents registered under their file URLs. */
export class SpecCompiler {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(
    private readonly spec: LoadedSpec,
    purpose: SchemaPurpose,
    options: SpecAjvOptions,
  ) {
    this.ajv = createAjv(spec.version, purpose, options);
    const refTargets = collectRefTargets(spec);
    const closed = purpose !== 'response' && options.unknownProperties !== 'allow';
    for (const [file, document] of spec.documents) {
      const copy = structuredClone(document);
      if (closed) closeObjects(copy);
      // The document's own `$id`s (3.1) stay meaningful; the file URL is its retrieval URI.
      delete copy.$id;
      const url = fileUrl(file);
      this.ajv.addSchema(copy, url);
      // Every `$ref` target is registered under its full URL too: Ajv then compiles a shared
      // component once per spec instead of once per schema that refers to it (1,000 operations
      // over 500 components: 13 s -> under 3 s).
      for (const pointer of refTargets.get(file) ?? []) {
        const value = valueAt(copy, pointer);
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) this.ajv.addSchema(value as JsonObject, `${url}#${pointer}`);
      }
    }
  }

  /**
   * The validator for the schema at `located` (compiled by reference, so refs resolve in its own
   * file). Compiling is the expensive part of loading a spec (Ajv generates code per schema), so
   * validators are shared: a schema that is only a `$ref` is compiled as its target, and inline
   * schemas with the same text in the same file (a `{type: integer}` id on 500 paths) once.
   */
  compile(located: Located, wrapAs?: string): ValidateFunction {
    let target = located;
    try {
      target = deref(this.spec, located);
    } catch {
      // a broken $ref: compile as written, so Ajv reports it with its location below
    }
    const ref = `${fileUrl(target.file)}#${target.pointer}`;
    const content = target.value !== null && typeof target.value === 'object' && !Array.isArray(target.value) ? JSON.stringify(target.value) : undefined;
    const identity = content !== undefined && content.length < 512 ? `${target.file}|${content}` : ref;
    const key = wrapAs === undefined ? identity : `${wrapAs}|${identity}`;
    let fn = this.cache.get(key);
    if (fn !== undefined) return fn;
    const schema = wrapAs === undefined ? { $ref: ref } : { type: 'object', properties: { [wrapAs]: { $ref: ref } } };
    try {
      fn = this.ajv.compile(schema);
    } catch (error) {
      throw new SpecError(located.file, located.pointer, `schema does not compile: ${(error as Error).message}`);
    }
    this.cache.set(key, fn);
    return fn;
  }
}

export interface ValidationIssue {
  readonly pointer: string;
  readonly detail: string;
}

const MAX_ISSUES = 20;
const MAX_POINTER = 200;

/**
 * Ajv errors as `{pointer, detail}` for the client: the message names the rule from the spec
 * ("must be integer", "is read-only"), never the value sent, and pointers are cut short.
 */
export function toIssues(prefix: string, errors: readonly ErrorObject[] | null | undefined, into: ValidationIssue[]): void {
  for (const e of errors ?? []) {
    if (into.length >= MAX_ISSUES) return;
    let pointer = prefix + e.instancePath;
    if (e.keyword === 'required') pointer += `/${String(e.params.missingProperty)}`;
    if (pointer.length > MAX_POINTER) pointer = pointer.slice(0, MAX_POINTER) + '...';
    // The name of an undeclared property is the client's own text: not echoed.
    const detail = e.keyword === 'additionalProperties' ? 'has a property that is not declared' : e.keyword === 'required' ? 'is required' : (e.message ?? e.keyword);
    into.push({ pointer, detail });
  }
}

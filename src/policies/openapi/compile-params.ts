import type { ValidateFunction } from 'ajv';
import { defaultStyle, STYLES_BY_LOCATION, type ParamLocation, type ParamSerialisation, type ParamShape, type ParamStyle } from './params.js';
import type { SpecCompiler } from './spec-ajv.js';
import { child, deref, SpecError, type JsonObject, type LoadedSpec, type Located } from './spec-loader.js';

export interface CompiledParam extends ParamSerialisation {
  readonly required: boolean;
  /** Validates (and coerces in place) `{ v: value }`. */
  readonly validate: ValidateFunction | undefined;
  /** A parameter declared with `content` (a media type) rather than `schema`: JSON text is parsed first. */
  readonly json: boolean;
}

const LOCATIONS: readonly ParamLocation[] = ['path', 'query', 'header', 'cookie'];
/** OpenAPI 3.1 section 4.8.12.1: these header parameters "SHALL be ignored" (HTTP itself defines them). */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

/** The `type` of a schema after following `$ref`s; 3.1's `["string", "null"]` counts as its non-null type. */
function shapeOf(spec: LoadedSpec, schema: Located): { shape: ParamShape; properties: string[] } {
  const resolved = deref<JsonObject | undefined>(spec, schema).value;
  if (resolved === undefined || resolved === null || typeof resolved !== 'object') return { shape: 'primitive', properties: [] };
  const raw = resolved.type;
  const type = Array.isArray(raw) ? raw.find((t) => t !== 'null') : raw;
  const props = resolved.properties;
  const properties = props !== null && typeof props === 'object' ? Object.keys(props) : [];
  if (type === 'array') return { shape: 'array', properties };
  if (type === 'object' || (type === undefined && properties.length > 0)) return { shape: 'object', properties };
  return { shape: 'primitive', properties };
}

function compileParam(spec: LoadedSpec, compiler: SpecCompiler, located: Located<JsonObject>): CompiledParam {
  const p = located.value;
  const fail = (message: string) => new SpecError(located.file, located.pointer, message);
  if (typeof p.name !== 'string' || p.name === '') throw fail('parameter has no "name"');
  const location = p.in as ParamLocation;
  if (!LOCATIONS.includes(location)) throw fail(`parameter "${p.name}" has an invalid "in" (path, query, header or cookie)`);
  const style = (p.style ?? defaultStyle(location)) as ParamStyle;
  if (!STYLES_BY_LOCATION[location].includes(style)) throw fail(`style "${String(p.style)}" is not allowed for ${location} parameters`);
  const explode = typeof p.explode === 'boolean' ? p.explode : style === 'form';
  let schema: Located | undefined;
  let json = false;
  if (p.schema !== undefined) schema = child(located, 'schema');
  else if (p.content !== null && typeof p.content === 'object') {
    const [media] = Object.keys(p.content);
    if (media !== undefined) {
      const mediaObject = child(child(located, 'content'), media);
      if ((mediaObject.value as JsonObject).schema !== undefined) schema = child(mediaObject, 'schema');
      json = /json/i.test(media);
    }
  }
  const { shape, properties } = schema === undefined || json ? { shape: 'primitive' as const, properties: [] } : shapeOf(spec, schema);
  return {
    name: location === 'header' ? p.name.toLowerCase() : p.name,
    in: location,
    style,
    explode,
    shape,
    properties,
    required: location === 'path' ? true : p.required === true,
    validate: schema === undefined ? undefined : compiler.compile(schema, 'v'),
    json,
  };
}

/**
 * A path item's parameters merged with its operation's: the operation's win by name and location
 * (OpenAPI 3.1 section 4.8.9.1). Ignored headers are dropped.
 */
export function compileParams(spec: LoadedSpec, compiler: SpecCompiler, pathItem: Located, operation: Located): CompiledParam[] {
  const byKey = new Map<string, CompiledParam>();
  for (const owner of [pathItem, operation]) {
    const list = child(owner, 'parameters');
    if (list.value === undefined) continue;
    if (!Array.isArray(list.value)) throw new SpecError(list.file, list.pointer, '"parameters" must be an array');
    list.value.forEach((_, i) => {
      const param = compileParam(spec, compiler, deref<JsonObject>(spec, child(list, i)));
      if (param.in === 'header' && IGNORED_HEADERS.has(param.name)) return;
      byKey.set(`${param.in}:${param.name}`, param);
    });
  }
  return [...byKey.values()];
}

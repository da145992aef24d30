import type { ValidateFunction } from 'ajv';
import findMyWay from 'find-my-way';
import { isJsonContentType } from '../../core/request-body.js';
import { compileParams, type CompiledParam } from './compile-params.js';
import { SpecCompiler, type SpecAjvOptions } from './spec-ajv.js';
import { child, deref, SpecError, type JsonObject, type LoadedSpec, type Located } from './spec-loader.js';

export type BodyKind = 'json' | 'form' | 'multipart' | 'other';

export interface CompiledMedia {
  readonly kind: BodyKind;
  readonly validate: ValidateFunction | undefined;
}

/** Media types by range: exact (`application/json`), then `type/*`, then `*\/*` (OpenAPI 3.1 section 4.8.14). */
export type MediaMap = ReadonlyMap<string, CompiledMedia>;

export interface CompiledOperation {
  /** `GET /pets/{id}`: for logs. */
  readonly id: string;
  readonly params: readonly CompiledParam[];
  /** Names a query may carry (declared parameters; exploded object properties; deepObject prefixes end with `[`). */
  readonly queryNames: ReadonlySet<string>;
  readonly deepObjectPrefixes: readonly string[];
  readonly body: { readonly required: boolean; readonly media: MediaMap } | undefined;
  /** Response media by status key (`200`, `2XX`, `default`). */
  readonly responses: ReadonlyMap<string, MediaMap>;
}

export interface PathEntry {
  readonly template: string;
  readonly operations: Readonly<Record<string, CompiledOperation>>;
  /** The `Allow` header for a 405 (RFC 9110 section 15.5.6). */
  readonly allow: string;
  /** Spec names of the path parameters, in order: the router knows them as p0, p1, ... */
  readonly paramNames: readonly string[];
}

/** The router's positional parameters under their spec names. */
export function pathParams(entry: PathEntry, found: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  entry.paramNames.forEach((name, i) => (out[name] = found[`p${i}`]));
  return out;
}

export interface CompiledSpec {
  readonly router: findMyWay.Instance<findMyWay.HTTPVersion.V1>;
  readonly operationCount: number;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export const ROUTER_METHODS = METHODS.map((m) => m.toUpperCase()) as findMyWay.HTTPMethod[];

function bodyKind(media: string): BodyKind {
  const type = media.toLowerCase();
  if (isJsonContentType(type)) return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type === 'multipart/form-data') return 'multipart';
  return 'other';
}

function compileContent(content: Located, compilers: { body: SpecCompiler; param: SpecCompiler }): MediaMap {
  const out = new Map<string, CompiledMedia>();
  if (content.value === null || typeof content.value !== 'object') return out;
  for (const media of Object.keys(content.value)) {
    const mediaObject = child(content, media);
    const kind = bodyKind(media);
    const hasSchema = (mediaObject.value as JsonObject | undefined)?.schema !== undefined;
    const compiler = kind === 'form' || kind === 'multipart' ? compilers.param : compilers.body;
    out.set(media.toLowerCase(), { kind, validate: hasSchema && kind !== 'other' ? compiler.compile(child(mediaObject, 'schema')) : undefined });
  }
  return out;
}

/**
 * OpenAPI path templates (`/pets/{pet-id}`) in find-my-way syntax, a literal `:` doubled. Parameters
 * get positional names (`/pets/:p0`): find-my-way ends a name at `-` or `.` (`:pet-id` would be
 * `:pet` then "-id"), and OpenAPI names often contain them. `names` lists the spec's names in order.
 */
export function routerPath(template: string, base: string): { path: string; names: string[] } {
  const names: string[] = [];
  const path = base + template.replaceAll(':', '::').replace(/\{([^}/]+)\}/g, (_, name: string) => `:p${names.push(name) - 1}`);
  return { path, names };
}

export interface CompileOptions extends SpecAjvOptions {
  /** Prefix of every spec path as the client sees it (`/api`), or ''. */
  readonly basePath: string;
  readonly validateResponses: boolean;
}

/** Compiles every operation of the spec: validators, parameters and one radix-tree router. */
export function compileSpec(spec: LoadedSpec, options: CompileOptions): CompiledSpec {
  const compilers = {
    body: new SpecCompiler(spec, 'body', options),
    param: new SpecCompiler(spec, 'param', options),
    response: options.validateResponses ? new SpecCompiler(spec, 'response', options) : undefined,
  };
  const router = findMyWay({ ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 2048 });
  const paths: Located = { file: spec.root, pointer: '/paths', value: spec.documents.get(spec.root)!.paths };
  let operationCount = 0;
  for (const template of Object.keys(paths.value as JsonObject)) {
    if (!template.startsWith('/')) throw new SpecError(spec.root, `/paths/${template}`, 'a path must start with "/"');
    const pathItem = deref<JsonObject>(spec, child(paths, template));
    const operations: Record<string, CompiledOperation> = {};
    for (const method of METHODS) {
      const operation = child(pathItem, method);
      if (operation.value === undefined) continue;
      operations[method.toUpperCase()] = compileOperation(spec, compilers, `${method.toUpperCase()} ${template}`, pathItem, operation);
      operationCount++;
    }
    const allow = Object.keys(operations);
    if (operations.GET !== undefined && operations.HEAD === undefined) allow.push('HEAD');
    const { path, names } = routerPath(template, options.basePath);
    const entry: PathEntry = { template, operations, allow: allow.join(', '), paramNames: names };
    try {
      router.on(ROUTER_METHODS, path, () => undefined, entry);
    } catch (error) {
      throw new SpecError(spec.root, `/paths/${template.replaceAll('~', '~0').replaceAll('/', '~1')}`, `path template conflicts with another: ${(error as Error).message}`);
    }
  }
  return { router, operationCount };
}

function compileOperation(
  spec: LoadedSpec,
  compilers: { body: SpecCompiler; param: SpecCompiler; response: SpecCompiler | undefined },
  id: string,
  pathItem: Located,
  operation: Located,
): CompiledOperation {
  const params = compileParams(spec, compilers.param, pathItem, operation);
  const queryNames = new Set<string>();
  const deepObjectPrefixes: string[] = [];
  for (const p of params) {
    if (p.in !== 'query') continue;
    if (p.style === 'deepObject') deepObjectPrefixes.push(`${p.name}[`);
    else if (p.shape === 'object' && p.explode) p.properties.forEach((name) => queryNames.add(name));
    else queryNames.add(p.name);
  }
  let body: CompiledOperation['body'];
  const requestBody = child(operation, 'requestBody');
  if (requestBody.value !== undefined) {
    const resolved = deref<JsonObject>(spec, requestBody);
    body = { required: resolved.value.required === true, media: compileContent(child(resolved, 'content'), compilers) };
  }
  const responses = new Map<string, MediaMap>();
  const declared = child(operation, 'responses');
  if (compilers.response !== undefined && declared.value !== null && typeof declared.value === 'object') {
    const responseCompilers = { body: compilers.response, param: compilers.response };
    for (const status of Object.keys(declared.value)) {
      const response = deref<JsonObject>(spec, child(declared, status));
      responses.set(status.toUpperCase(), compileContent(child(response, 'content'), responseCompilers));
    }
  }
  return { id, params, queryNames, deepObjectPrefixes, body, responses };
}

/** The media entry for a Content-Type: exact range, then `type/*`, then `*\/*`. */
export function matchMedia(media: MediaMap, contentType: string | undefined): CompiledMedia | undefined {
  if (contentType === undefined) return undefined;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  const exact = media.get(type);
  if (exact !== undefined) return exact;
  const slash = type.indexOf('/');
  return (slash === -1 ? undefined : media.get(`${type.slice(0, slash)}/*`)) ?? media.get('*/*');
}

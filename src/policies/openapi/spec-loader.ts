import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isNode, LineCounter, parse as parseYaml, parseDocument } from 'yaml';

/**
 * Loads an OpenAPI description and every file its `$ref`s reach, synchronously.
 *
 * Hand-written because a policy's `create` is synchronous (it runs when the config loads and in
 * `portcullis validate`) and every maintained OpenAPI/JSON Schema `$ref` resolver on npm is
 * asynchronous (@apidevtools/json-schema-ref-parser, @readme/openapi-parser) or needs Node 22
 * (@scalar/openapi-parser). The work left is small: parse each file with `yaml` (a YAML 1.2 parser
 * also reads JSON), follow external `$ref`s to more files, and resolve JSON Pointers (RFC 6901).
 * Schema `$ref`s are not inlined here: each document is registered with Ajv under its file URL,
 * and Ajv resolves them (recursive schemas included).
 */

export type JsonObject = Record<string, unknown>;

/** A problem in a spec, located by file, line (when the file parses) and JSON Pointer. */
export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly pointer: string,
    message: string,
  ) {
    const line = lineOf(file, pointer);
    super(`${file}${line === undefined ? '' : `:${line}`}#${pointer}: ${message}`);
    this.name = 'SpecError';
  }
}

/** The 1-based line of the node at `pointer` in a YAML or JSON file; only computed for errors. */
function lineOf(file: string, pointer: string): number | undefined {
  try {
    const lineCounter = new LineCounter();
    const document = parseDocument(readFileSync(file, 'utf8'), { lineCounter });
    const path = pointer === '' ? [] : pointer.slice(1).split('/').map((t) => decodeURIComponent(t).replaceAll('~1', '/').replaceAll('~0', '~'));
    const node = path.length === 0 ? document.contents : document.getIn(path, true);
    if (!isNode(node) || node.range === undefined || node.range === null) return undefined;
    return lineCounter.linePos(node.range[0]).line;
  } catch {
    return undefined;
  }
}

export interface LoadedSpec {
  /** Absolute path of the root document. */
  readonly root: string;
  readonly version: '3.0' | '3.1';
  /** Every document reached, by absolute path. */
  readonly documents: ReadonlyMap<string, JsonObject>;
}

/** A value found by `$ref`, with where it lives (so refs inside it resolve against the right file). */
export interface Located<T = unknown> {
  readonly file: string;
  readonly pointer: string;
  readonly value: T;
}

const MAX_DOCUMENTS = 200;

export function fileUrl(file: string): string {
  return pathToFileURL(file).href;
}

function readDocument(file: string, from: { file: string; pointer: string } | undefined): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const where = from ?? { file, pointer: '' };
    throw new SpecError(where.file, where.pointer, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    // JSON.parse is an order of magnitude faster than the YAML parser on large JSON specs.
    value = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    throw new SpecError(file, '', `not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SpecError(file, '', 'the document is not an object');
  return value as JsonObject;
}

/** Every `$ref` string in a document with the pointer of the object holding it; iterative walk. */
export function* refsIn(document: unknown): Generator<{ ref: string; pointer: string }> {
  const stack: { value: unknown; pointer: string }[] = [{ value: document, pointer: '' }];
  while (stack.length > 0) {
    const { value, pointer } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, pointer: `${pointer}/${i}` }));
      continue;
    }
    const ref = (value as JsonObject).$ref;
    if (typeof ref === 'string') yield { ref, pointer };
    for (const [key, child] of Object.entries(value)) {
      if (key === 'example' || key === 'examples' || key === 'default' || key === 'enum' || key === 'const') continue;
      stack.push({ value: child, pointer: `${pointer}/${escapePointer(key)}` });
    }
  }
}

export function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Loads `file` and every file reachable through external `$ref`s. */
export function loadSpec(file: string): LoadedSpec {
  const root = resolve(file);
  const documents = new Map<string, JsonObject>();
  const queue: { file: string; from: { file: string; pointer: string } | undefined }[] = [{ file: root, from: undefined }];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (documents.has(next.file)) continue;
    if (documents.size >= MAX_DOCUMENTS) throw new SpecError(root, '', `more than ${MAX_DOCUMENTS} files referenced`);
    const document = readDocument(next.file, next.from);
    documents.set(next.file, document);
    for (const { ref, pointer } of refsIn(document)) {
      const hash = ref.indexOf('#');
      const target = hash === -1 ? ref : ref.slice(0, hash);
      if (target === '') continue;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) throw new SpecError(next.file, pointer, `remote $ref "${ref}" is not supported: only files next to the spec`);
      queue.push({ file: resolve(dirname(next.file), decodeURIComponent(target)), from: { file: next.file, pointer } });
    }
  }
  const rootDoc = documents.get(root)!;
  const version = typeof rootDoc.openapi === 'string' ? rootDoc.openapi : '';
  if (!/^3\.[01]\.\d+$/.test(version)) {
    throw new SpecError(root, '/openapi', `"openapi" must be a 3.0.x or 3.1.x version${rootDoc.swagger === undefined ? '' : ' (Swagger 2.0 is not supported)'}`);
  }
  if (rootDoc.paths === undefined || rootDoc.paths === null || typeof rootDoc.paths !== 'object') {
    throw new SpecError(root, '/paths', 'the document has no "paths" object');
  }
  return { root, version: version.startsWith('3.0') ? '3.0' : '3.1', documents };
}

/** The value at a JSON Pointer (RFC 6901) inside one document. */
function atPointer(document: unknown, pointer: string, file: string, from: Located): unknown {
  if (pointer === '') return document;
  if (!pointer.startsWith('/')) throw new SpecError(from.file, from.pointer, `$ref pointer "${pointer}" must start with "/"`);
  let value: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, token)) {
      throw new SpecError(from.file, from.pointer, `$ref target ${file}#${pointer} does not exist`);
    }
    value = (value as JsonObject)[token];
  }
  return value;
}

/** Follows `$ref` chains from a located value until a value without `$ref` (non-schema objects: parameters, bodies, responses). */
export function deref<T = unknown>(spec: LoadedSpec, located: Located): Located<T> {
  let current = located;
  for (let hops = 0; hops < 32; hops++) {
    const value = current.value;
    if (value === null || typeof value !== 'object' || typeof (value as JsonObject).$ref !== 'string') return current as Located<T>;
    const ref = (value as JsonObject).$ref as string;
    const hash = ref.indexOf('#');
    const target = hash === -1 ? ref : ref.slice(0, hash);
    const file = target === '' ? current.file : resolve(dirname(current.file), decodeURIComponent(target));
    const pointer = hash === -1 ? '' : ref.slice(hash + 1);
    const document = spec.documents.get(file);
    if (document === undefined) throw new SpecError(current.file, current.pointer, `$ref target ${file} was not loaded`);
    current = { file, pointer, value: atPointer(document, pointer, file, current) };
  }
  throw new SpecError(located.file, located.pointer, '$ref chain longer than 32 hops (a cycle?)');
}

/** A child of a located object. */
export function child(parent: Located, key: string | number): Located {
  const value = parent.value !== null && typeof parent.value === 'object' ? (parent.value as JsonObject)[key as string] : undefined;
  return { file: parent.file, pointer: `${parent.pointer}/${escapePointer(String(key))}`, value };
}

import { resolve } from 'node:path';
import { beginLoad, loadAndOffer } from '../policies/openapi/spec-cache.js';
import { child, deref, SpecError, type JsonObject, type LoadedSpec } from '../policies/openapi/spec-loader.js';
import type { ConfigIssue } from './config-error.js';
import { mergeConfig } from './resolve-policies.js';
import type { GatewayConfig, PolicyAttachmentConfig, RouteConfig } from './schema.js';
import type { ConfigSource } from './source.js';

/**
 * Routes generated from OpenAPI descriptions (issue 6, "operations become routes").
 *
 * A route with `openapi: {spec, basePath, operations}` stands for one route per operation of the
 * spec: path `basePath + template`, the operation's method (and HEAD with GET), the route's hosts,
 * policies and forward, plus the `openapi` policy. Expanding in the config, before policies are
 * resolved, keeps everything downstream unchanged: the router sends an undeclared method to 405
 * (with Allow) and an undeclared path to 404 by itself, every per-route feature (policies, metrics,
 * logs by route name, sampling) works per operation, and `operations.<id>.policies` overrides
 * attach to one operation's route only. The policy instances share one parsed and compiled spec
 * (policies/openapi/spec-cache.ts).
 *
 * Generated routes are not in the file, so problems found later (a policy config, a path conflict,
 * a duplicate name) are located through `source`, which maps them back to the route's `openapi`
 * section or to the attachment they came from.
 */

type Path = readonly (string | number)[];

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Where a generated route's parts came from in the file. */
interface Origin {
  readonly route: number;
  /** Set for generated routes: the file path of each attachment, by position in `policies`. */
  readonly policies?: readonly Path[];
}

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly key: string;
  readonly operationId: string | undefined;
}

/** Every operation of the spec, in document order. */
function operationsOf(spec: LoadedSpec): Operation[] {
  const out: Operation[] = [];
  const paths = { file: spec.root, pointer: '/paths', value: spec.documents.get(spec.root)!.paths };
  for (const template of Object.keys((paths.value ?? {}) as JsonObject)) {
    if (!template.startsWith('/')) throw new SpecError(spec.root, `/paths/${template}`, 'a path must start with "/"');
    const item = deref<JsonObject>(spec, child(paths, template));
    for (const method of METHODS) {
      const operation = item.value[method] as JsonObject | undefined;
      if (operation === undefined) continue;
      const operationId = typeof operation.operationId === 'string' ? operation.operationId : undefined;
      out.push({ method: method.toUpperCase(), template, key: operationId ?? `${method.toUpperCase()} ${template}`, operationId });
    }
  }
  return out;
}

/** A spec template as a config path: `{pet-id}` becomes `{pet_id}` (config templates take identifiers only). */
function routePath(basePath: string, template: string): string {
  return basePath + template.replace(/\{([^}]*)\}/g, (_, name: string) => `{${name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_') || '_'}}`);
}

/** `<route>.<operationId>` within the route-name alphabet and length (a clash is reported as a duplicate name). */
function routeName(base: string, op: Operation): string {
  const tail = (op.operationId ?? `${op.method.toLowerCase()}${op.template}`).replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${base}.${tail}`.slice(0, 64);
}

/**
 * The route's attachments for one operation: the route's own, those of the operation override
 * (same name: merged over the route's), then `openapi` with this spec (over a route attachment of
 * that name, which is how monitor mode and the policy's other settings are given).
 */
function attachmentsFor(route: RouteConfig, index: number, override: readonly PolicyAttachmentConfig[], overridePath: Path): { policies: PolicyAttachmentConfig[]; origins: Path[] } {
  const policies: PolicyAttachmentConfig[] = [...route.policies];
  const origins: Path[] = route.policies.map((_, i) => ['routes', index, 'policies', i]);
  override.forEach((attachment, i) => {
    const at = policies.findIndex((p) => p.name === attachment.name);
    const merged = at === -1 ? attachment : { ...policies[at]!, ...attachment, config: mergeConfig(policies[at]!.config ?? {}, attachment.config ?? {}) };
    if (at === -1) {
      policies.push(merged);
      origins.push([...overridePath, i]);
    } else {
      policies[at] = merged;
      origins[at] = [...overridePath, i];
    }
  });
  const openapi = route.openapi!;
  const own = { spec: openapi.spec, basePath: openapi.basePath };
  const at = policies.findIndex((p) => p.name === 'openapi');
  if (at === -1) {
    policies.push({ name: 'openapi', enabled: true, config: own });
    origins.push(['routes', index, 'openapi']);
  } else {
    policies[at] = { ...policies[at]!, config: mergeConfig(policies[at]!.config ?? {}, own) };
  }
  return { policies, origins };
}

/** Maps a path into the expanded config back to the file. */
function originalPath(path: Path, origins: readonly Origin[]): Path {
  if (path[0] !== 'routes' || typeof path[1] !== 'number') return path;
  const origin = origins[path[1]];
  if (origin === undefined) return path;
  const rest = path.slice(2);
  if (origin.policies === undefined) return ['routes', origin.route, ...rest];
  if (rest[0] === 'policies' && typeof rest[1] === 'number') {
    const from = origin.policies[rest[1]] ?? ['routes', origin.route, 'policies'];
    // The generated openapi attachment: its settings are the route's `openapi` section itself.
    const tail = from.at(-1) === 'openapi' && rest[2] === 'config' ? rest.slice(3) : rest.slice(2);
    return [...from, ...tail];
  }
  if (rest[0] === 'match') return ['routes', origin.route, 'openapi', 'spec'];
  return ['routes', origin.route, ...rest];
}

/**
 * Replaces every route with `openapi` by its generated routes. Problems (an unreadable or broken
 * spec, an override for an operation the spec lacks, `match.paths` given as well) are added to
 * `issues`, located in the file. Returns the config to use and a source that locates problems in
 * generated routes at their origin.
 */
export function expandOpenApiRoutes(config: GatewayConfig, dir: string, source: ConfigSource, issues: ConfigIssue[]): { config: GatewayConfig; source: ConfigSource } {
  beginLoad();
  const routes: RouteConfig[] = [];
  const origins: Origin[] = [];
  config.routes.forEach((route, index) => {
    if (route.openapi === undefined) {
      if (route.match.paths === undefined) issues.push(source.issue(['routes', index, 'match'], 'match.paths is required (or openapi, whose operations give the paths)'));
      routes.push(route);
      origins.push({ route: index });
      return;
    }
    const at = (...rest: (string | number)[]): Path => ['routes', index, ...rest];
    for (const field of ['paths', 'methods'] as const) {
      if (route.match[field] !== undefined) issues.push(source.issue(at('match', field), `a route with openapi takes its ${field} from the spec`));
    }
    let operations: Operation[];
    try {
      operations = operationsOf(loadAndOffer(resolve(dir, route.openapi.spec)));
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      issues.push(source.issue(at('openapi', 'spec'), error.message));
      return;
    }
    const keys = new Set(operations.map((op) => op.key));
    for (const key of Object.keys(route.openapi.operations)) {
      if (!keys.has(key)) issues.push(source.issue(at('openapi', 'operations', key), `the spec has no operation "${key}" (keys are operationIds, or "METHOD /path")`));
    }
    if (operations.length === 0) issues.push(source.issue(at('openapi', 'spec'), 'the spec declares no operations'));
    for (const op of operations) {
      const override = route.openapi.operations[op.key]?.policies ?? [];
      const { policies, origins: from } = attachmentsFor(route, index, override, at('openapi', 'operations', op.key, 'policies'));
      const hasHead = operations.some((o) => o.template === op.template && o.method === 'HEAD');
      const methods = (op.method === 'GET' && !hasHead ? ['GET', 'HEAD'] : [op.method]) as NonNullable<RouteConfig['match']['methods']>;
      const match = { ...route.match, paths: [routePath(route.openapi.basePath, op.template)], methods };
      const { openapi: _, ...rest } = route;
      routes.push({ ...rest, name: routeName(route.name, op), match, policies });
      origins.push({ route: index, policies: from });
    }
  });
  if (origins.every((o) => o.policies === undefined)) return { config, source };
  const mapped = Object.create(source) as ConfigSource;
  mapped.issue = (path, message) => source.issue(originalPath(path, origins), message);
  return { config: { ...config, routes }, source: mapped };
}

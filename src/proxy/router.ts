import FindMyWay from 'find-my-way';
import type { RouteConfig } from '../config/schema.js';

/** What a path match yields: the route's index in config and its path parameters. */
export interface RouteMatch<T> {
  readonly route: T;
  readonly params: Record<string, string | undefined>;
  /** The config path that matched (`/users/{id}`): low-cardinality, for tracing's `http.route`. */
  readonly template: string;
}

export type LookupResult<T> =
  | { kind: 'found'; match: RouteMatch<T> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

/** A route path could not be registered (a conflict or bad syntax); `index` locates it in config. */
export class RoutePathError extends Error {
  constructor(
    readonly routeIndex: number,
    readonly pathIndex: number,
    message: string,
  ) {
    super(message);
  }
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;

/**
 * Config path syntax to find-my-way's: a literal ":" is doubled, `{name}` becomes `:name`, and a
 * trailing `/*` (prefix) registers both the bare prefix and everything below it.
 */
export function toRouterPaths(path: string): string[] {
  if (path.includes('*') && !path.endsWith('/*')) throw new Error(`"*" may only end a path, as "/prefix/*": ${path}`);
  const escaped = path.replaceAll(':', '::');
  const converted = escaped.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
  if (/[{}]/.test(converted)) throw new Error(`invalid path template: ${path}`);
  if (!converted.endsWith('/*')) return [converted];
  const bare = converted.slice(0, -2);
  return bare === '' ? ['/*'] : [bare, converted];
}

function hostConstraint(host: string): string | RegExp {
  if (!host.startsWith('*.')) return host.toLowerCase();
  const suffix = host.slice(2).toLowerCase().replaceAll('.', '\\.');
  // One or more whole labels: "*.example.com" matches "a.example.com" and "a.b.example.com", never "evil-example.com".
  return new RegExp(`^(?:[a-z0-9-]+\\.)+${suffix}$`);
}

/**
 * The route table: a radix tree (find-my-way, compiled) keyed by method, path and host. Lookups
 * take the already-normalised path, so the router never sees two spellings of one path.
 */
export class Router<T> {
  private readonly tree = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, maxParamLength: 1024 });
  private readonly usedMethods = new Set<string>();

  constructor(routes: readonly RouteConfig[], values: readonly T[]) {
    routes.forEach((route, routeIndex) => {
      const methods = route.match.methods ?? ALL_METHODS;
      const hosts = route.match.hosts;
      for (const m of methods) this.usedMethods.add(m);
      // Every loaded route has paths: a route with `openapi` gets them when it is expanded (config/openapi-routes.ts).
      (route.match.paths ?? []).forEach((path, pathIndex) => {
        try {
          for (const routerPath of toRouterPaths(path)) {
            const targets = hosts === undefined ? [undefined] : hosts.map(hostConstraint);
            for (const host of targets) {
              const options = host === undefined ? {} : { constraints: { host } };
              this.tree.on(methods as FindMyWay.HTTPMethod[], routerPath, options, () => undefined, { value: values[routeIndex], template: path });
            }
          }
        } catch (error) {
          throw new RoutePathError(routeIndex, pathIndex, (error as Error).message);
        }
      });
    });
    this.tree.compile?.();
  }

  lookup(method: string, path: string, host: string): LookupResult<T> {
    const found = this.tree.find(method as FindMyWay.HTTPMethod, path, { host });
    if (found !== null) {
      const store = found.store as { value: T; template: string };
      return { kind: 'found', match: { route: store.value, params: found.params, template: store.template } };
    }
    const allow: string[] = [];
    for (const other of this.usedMethods) {
      if (other !== method && this.tree.find(other as FindMyWay.HTTPMethod, path, { host }) !== null) allow.push(other);
    }
    return allow.length === 0 ? { kind: 'not-found' } : { kind: 'method-not-allowed', allow };
  }
}

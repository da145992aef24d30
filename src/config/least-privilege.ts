import type { AnyPolicyDescriptor } from '../core/policy.js';
import { defaultDenyPolicy } from '../policies/authorize/default-deny.js';
import { Router } from '../proxy/router.js';
import type { ConfigIssue } from './config-error.js';
import type { ResolvedAttachment } from './resolve-policies.js';
import type { GatewayConfig } from './schema.js';
import type { ConfigSource } from './source.js';

type Chain = readonly ResolvedAttachment[];

const PROBE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;

const find = (chain: Chain, name: string) => chain.find((a) => a.descriptor.name === name);

function denyStep(path: readonly (string | number)[]): ResolvedAttachment {
  return { descriptor: defaultDenyPolicy as AnyPolicyDescriptor, mode: 'enforce', failureMode: 'closed', config: {}, path };
}

/** `/admin/*` -> `/admin`, `/admin` -> `/admin`. */
const prefixOf = (pattern: string) => (pattern.endsWith('/*') ? pattern.slice(0, -2) : pattern);
const under = (path: string, prefix: string) => prefix === '' || path === prefix || path.startsWith(prefix + '/');

/**
 * The routes that serve an admin pattern: those whose own paths lie under it, and those the router
 * would pick for a request under it (a catch-all `/*` with no more specific admin route).
 */
function adminRoutes(config: GatewayConfig): Map<number, string> {
  const out = new Map<number, string>();
  const patterns = config.authorization.adminPaths;
  if (patterns.length === 0) return out;
  config.routes.forEach((route, i) => {
    for (const pattern of patterns) if ((route.match.paths ?? []).some((p) => under(prefixOf(p), prefixOf(pattern)))) out.set(i, pattern);
  });
  // Boxed: the router's store drops falsy values such as index 0.
  const router = new Router(config.routes, config.routes.map((_, index) => ({ index })));
  for (const pattern of patterns) {
    const prefix = prefixOf(pattern).replace(/\{[^}]*\}/g, 'x');
    const probes = pattern.endsWith('/*') ? [prefix === '' ? '/' : prefix, `${prefix}/x`] : [prefix];
    for (const probe of probes) {
      for (const method of PROBE_METHODS) {
        const found = router.lookup(method, probe, '');
        if (found.kind === 'found' && !out.has(found.match.route.index)) out.set(found.match.route.index, pattern);
      }
    }
  }
  return out;
}

/** An admin route needs an enforcing authorize policy in which no allow rule lets in a caller without a group. */
function requiresRole(chain: Chain): boolean {
  const authorize = find(chain, 'authorize');
  if (authorize === undefined || authorize.mode !== 'enforce') return false;
  const rules = (authorize.config['rules'] ?? []) as readonly { effect?: string; groups?: readonly string[] }[];
  const allows = rules.filter((r) => r.effect !== 'deny');
  return allows.length > 0 && allows.every((r) => r.groups !== undefined && r.groups.length > 0);
}

export interface LeastPrivilege {
  readonly routePolicies: readonly Chain[];
  readonly globalPolicies: Chain;
  /** Not errors, but worth saying: routes refused wholesale under `default: deny`. */
  readonly notices: readonly ConfigIssue[];
}

/**
 * Applies `authorization` at load, after the policies are resolved, so no route can bypass it by
 * forgetting (or disabling) its authorize policy: under `default: deny` such a route, and the chain
 * for unmatched requests, get a step that refuses everything. Also refuses (DESIGN.md) a chain with
 * `authorize` but no `authenticate`, and admin routes whose rules do not all require a role.
 */
export function applyLeastPrivilege(
  config: GatewayConfig,
  routePolicies: readonly Chain[],
  globalPolicies: Chain,
  source: ConfigSource,
  issues: ConfigIssue[],
): LeastPrivilege {
  const deny = config.authorization.default === 'deny';
  const notices: ConfigIssue[] = [];
  const needsAuthentication = (chain: Chain) => {
    const authorize = find(chain, 'authorize');
    if (authorize !== undefined && find(chain, 'authenticate') === undefined) {
      issues.push(source.issue([...authorize.path, 'name'], 'authorize needs an authenticate policy on the same route (authorization decides on an identity)'));
    }
  };

  needsAuthentication(globalPolicies);
  const admin = adminRoutes(config);
  const routes = routePolicies.map((chain, i) => {
    needsAuthentication(chain);
    const route = config.routes[i]!;
    const pattern = admin.get(i);
    if (pattern !== undefined && !requiresRole(chain)) {
      issues.push(
        source.issue(['routes', i, 'policies'], `route ${route.name} serves the admin path ${pattern}: it needs an enforcing authorize policy whose every allow rule requires groups`),
      );
    }
    const authorize = find(chain, 'authorize');
    if (deny && authorize?.mode === 'monitor') {
      notices.push(source.issue([...authorize.path, 'mode'], `route ${route.name}: authorize only monitors, so requests it would deny are let through`));
    }
    if (!deny || authorize !== undefined) return chain;
    notices.push(source.issue(['routes', i, 'name'], `route ${route.name} has no authorize policy: every request is refused (authorization.default: deny)`));
    return [...chain, denyStep(['routes', i])];
  });
  const global = deny ? [...globalPolicies, denyStep(['authorization', 'default'])] : globalPolicies;
  return { routePolicies: routes, globalPolicies: global, notices };
}

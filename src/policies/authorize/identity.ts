import type { Principal } from '../../core/context.js';

/** The principal with the scopes and groups authorization decides on. */
export interface Identity {
  readonly principal: Principal;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
}

/** `realm_access.roles` -> ['realm_access', 'roles'], compiled once. */
export function splitDotPath(path: string): readonly string[] {
  return Object.freeze(path.split('.'));
}

/** The value at a dot path, own properties only (a claim named `__proto__` is a claim, not a prototype). */
export function valueAt(root: unknown, path: readonly string[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Scopes and groups come as a space-separated string (RFC 8693 section 4.2 `scope`, RFC 6749
 * section 3.3) or as an array of strings (Azure AD `scp`/`roles`, Keycloak `realm_access.roles`).
 * Anything else (a number, an object, an array holding non-strings) adds nothing.
 */
function addNames(value: unknown, into: string[]): void {
  if (typeof value === 'string') {
    for (const part of value.split(' ')) if (part !== '') into.push(part);
  } else if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'string' && item !== '') into.push(item);
  }
}

const NONE: readonly string[] = Object.freeze([]);

/** The principal's own list, plus whatever the claim paths add (duplicates dropped). */
function merge(own: readonly string[] | undefined, claims: Readonly<Record<string, unknown>> | undefined, paths: readonly (readonly string[])[]): readonly string[] {
  let added: string[] | undefined;
  if (claims !== undefined) {
    for (const path of paths) {
      const value = valueAt(claims, path);
      if (value !== undefined) addNames(value, (added ??= []));
    }
  }
  if (added === undefined) return own ?? NONE;
  return [...new Set(own === undefined ? added : [...own, ...added])];
}

/**
 * Derives identities from principals, per request: a few property reads when no claim path is
 * present (an API key's principal), so nothing is cached (a WeakMap keyed by per-request principal
 * objects cost more than it saved).
 */
export class IdentityResolver {
  constructor(
    private readonly scopePaths: readonly (readonly string[])[],
    private readonly groupPaths: readonly (readonly string[])[],
  ) {}

  resolve(principal: Principal): Identity {
    return {
      principal,
      scopes: merge(principal.scopes, principal.claims, this.scopePaths),
      groups: merge(principal.groups, principal.claims, this.groupPaths),
    };
  }
}

/** True when `unless` names a group the identity belongs to: the override applies. */
export function overrides(identity: Identity, unless: readonly string[]): boolean {
  for (const group of unless) if (identity.groups.includes(group)) return true;
  return false;
}

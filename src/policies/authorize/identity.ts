import type { Principal } from '../../core/context.js';

/** The principal with the scopes and groups authorization decides on. */
export interface Identity {
  readonly principal: Principal;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  readonly scopeSet: ReadonlySet<string>;
  readonly groupSet: ReadonlySet<string>;
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

/**
 * Derives identities from principals. A JWT principal is often the same object across requests
 * (the verified-token cache), so results are kept in a WeakMap and cost nothing the second time.
 */
export class IdentityResolver {
  private readonly cache = new WeakMap<Principal, Identity>();

  constructor(
    private readonly scopePaths: readonly (readonly string[])[],
    private readonly groupPaths: readonly (readonly string[])[],
  ) {}

  resolve(principal: Principal): Identity {
    const cached = this.cache.get(principal);
    if (cached !== undefined) return cached;
    const scopes: string[] = principal.scopes === undefined ? [] : [...principal.scopes];
    const groups: string[] = principal.groups === undefined ? [] : [...principal.groups];
    if (principal.claims !== undefined) {
      for (const path of this.scopePaths) addNames(valueAt(principal.claims, path), scopes);
      for (const path of this.groupPaths) addNames(valueAt(principal.claims, path), groups);
    }
    const scopeSet = new Set(scopes);
    const groupSet = new Set(groups);
    const identity: Identity = Object.freeze({ principal, scopes: Object.freeze([...scopeSet]), groups: Object.freeze([...groupSet]), scopeSet, groupSet });
    this.cache.set(principal, identity);
    return identity;
  }
}

/** True when `unless` names a group the identity belongs to: the override applies. */
export function overrides(identity: Identity, unless: readonly string[]): boolean {
  for (const group of unless) if (identity.groupSet.has(group)) return true;
  return false;
}

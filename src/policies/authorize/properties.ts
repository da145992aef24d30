import { overrides, type Identity } from './identity.js';
import { PolicyConfigProblem } from './rules.js';
import type { PropertyRuleConfig } from './schema.js';

/** `*` in a path: any key of an object. */
const ANY = Symbol('any');
type Segment = string | typeof ANY;

export interface PropertyPath {
  readonly text: string;
  readonly segments: readonly Segment[];
}

export interface CompiledPropertyRule {
  readonly paths: readonly PropertyPath[];
  readonly methods: ReadonlySet<string> | undefined;
  readonly unless: readonly string[];
}

/**
 * `a.b[].c`, `a.*.c` (dot paths) or `/a/b/*\/c` (RFC 6901 JSON pointer, `~1` for "/" and `~0` for
 * "~"; `*` added for any key). Arrays are always walked through, so `items.price` and
 * `items[].price` both mean "price in every element of items", and a body that wraps objects in
 * an array (a batch) is checked like a single object.
 */
export function parsePropertyPath(text: string): PropertyPath {
  const raw = text.startsWith('/')
    ? text.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    : text.split('.').map((s) => (s.endsWith('[]') ? s.slice(0, -2) : s));
  const segments = raw.map((s): Segment => (s === '*' ? ANY : s));
  if (segments.length === 0 || segments.some((s) => s === '')) throw new Error(`invalid property path "${text}"`);
  return Object.freeze({ text, segments: Object.freeze(segments) });
}

export function compilePropertyRules(rules: readonly PropertyRuleConfig[], where: 'write' | 'read'): readonly CompiledPropertyRule[] {
  return rules.map((rule, i) =>
    Object.freeze({
      paths: rule.paths.map((path, j) => {
        try {
          return parsePropertyPath(path);
        } catch (error) {
          throw new PolicyConfigProblem(['properties', where, i, 'paths', j], (error as Error).message);
        }
      }),
      methods: rule.methods === undefined ? undefined : new Set<string>(rule.methods),
      unless: rule.unlessGroups,
    }),
  );
}

/**
 * The paths that apply to this method and identity: undefined when no rule names the method, an
 * empty list when rules do but the identity is in every rule's override groups.
 */
export function applicablePaths(rules: readonly CompiledPropertyRule[], method: string, identity: Identity): PropertyPath[] | undefined {
  let out: PropertyPath[] | undefined;
  for (const rule of rules) {
    if (rule.methods !== undefined && !rule.methods.has(method)) continue;
    out ??= [];
    if (!overrides(identity, rule.unless)) out.push(...rule.paths);
  }
  return out;
}

const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key);

/**
 * Visits every property at `path` (own properties only). Iterative, so a deeply nested body
 * cannot overflow the stack. `onHit` returns true to stop.
 */
function visit(root: unknown, path: PropertyPath, onHit: (parent: Record<string, unknown>, key: string) => boolean): boolean {
  const { segments } = path;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, i] = stack.pop()!;
    const segment = segments[i]!;
    if (Array.isArray(value)) {
      // `*` on an array is its index; a name walks through the array to its elements.
      if (segment === ANY && i === segments.length - 1) continue;
      const next = segment === ANY ? i + 1 : i;
      for (const element of value) stack.push([element, next]);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const object = value as Record<string, unknown>;
    const keys = segment === ANY ? Object.keys(object) : hasOwn(object, segment) ? [segment] : [];
    const last = i === segments.length - 1;
    for (const key of keys) {
      if (last) {
        if (onHit(object, key)) return true;
      } else {
        stack.push([object[key], i + 1]);
      }
    }
  }
  return false;
}

/** The first path the body writes, or undefined. */
export function firstWritten(body: unknown, paths: readonly PropertyPath[]): string | undefined {
  for (const path of paths) if (visit(body, path, () => true)) return path.text;
  return undefined;
}

/**
 * A key that would reach an object's prototype in a naive merge on the upstream (prototype
 * pollution: `__proto__`, or `constructor.prototype`). JSON.parse keeps them as own properties,
 * so they are found here and refused before any upstream can merge them.
 */
export function prototypeKey(body: unknown): string | undefined {
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      for (const element of value) stack.push(element);
      continue;
    }
    const object = value as Record<string, unknown>;
    if (hasOwn(object, '__proto__')) return '__proto__';
    const ctor = hasOwn(object, 'constructor') ? object['constructor'] : undefined;
    if (ctor !== null && typeof ctor === 'object' && hasOwn(ctor, 'prototype')) return 'constructor.prototype';
    for (const key of Object.keys(object)) stack.push(object[key]);
  }
  return undefined;
}

/** Deletes every property at the paths; returns how many were removed. */
export function removeProperties(body: unknown, paths: readonly PropertyPath[]): number {
  let removed = 0;
  for (const path of paths) {
    visit(body, path, (parent, key) => {
      delete parent[key];
      removed++;
      return false;
    });
  }
  return removed;
}

import type { AnyPolicyDescriptor, FailureMode, PolicyMode } from '../core/policy.js';
import type { PolicyRegistry } from '../policies/registry.js';
import type { ConfigIssue } from './config-error.js';
import type { GatewayConfig, PolicyAttachmentConfig } from './schema.js';
import type { ConfigSource } from './source.js';
import { configValidator, describeAjvError, usefulErrors } from './ajv.js';
import { pointerToPath } from './source.js';

/** A policy attachment after merging global and route settings and validating the result. */
export interface ResolvedAttachment {
  readonly descriptor: AnyPolicyDescriptor;
  readonly mode: PolicyMode;
  readonly failureMode: FailureMode;
  readonly config: Readonly<Record<string, unknown>>;
  /** Where the attachment stands in the file (the route's, when it overrides a global one). */
  readonly path: readonly (string | number)[];
}

type Path = (string | number)[];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Route settings over global ones: objects merge key by key, anything else is replaced. */
export function mergeConfig(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfig(current, value) : value;
  }
  return out;
}

function resolveOne(
  registry: PolicyRegistry,
  global: { attachment: PolicyAttachmentConfig; path: Path } | undefined,
  local: { attachment: PolicyAttachmentConfig; path: Path } | undefined,
  source: ConfigSource,
  issues: ConfigIssue[],
): ResolvedAttachment | undefined {
  const where = (local ?? global)!;
  const name = where.attachment.name;
  const descriptor = registry.get(name);
  if (descriptor === undefined) {
    issues.push(source.issue([...where.path, 'name'], `unknown policy "${name}" (known: ${[...registry.keys()].join(', ')})`));
    return undefined;
  }
  if (local !== undefined && !local.attachment.enabled) return undefined;
  if (local === undefined && !global!.attachment.enabled) return undefined;

  const mode = local?.attachment.mode ?? global?.attachment.mode ?? 'enforce';
  if (mode === 'monitor' && !descriptor.supportsMonitor) {
    issues.push(source.issue([...where.path, 'mode'], `policy "${name}" has no monitor mode`));
  }
  const merged = mergeConfig(structuredClone(global?.attachment.config ?? {}), structuredClone(local?.attachment.config ?? {}));
  const validate = configValidator(descriptor.schema);
  if (!validate(merged)) {
    for (const e of usefulErrors(validate.errors ?? [])) {
      issues.push(source.issue([...where.path, 'config', ...pointerToPath(e.instancePath)], describeAjvError(e)));
    }
    return undefined;
  }
  const problems = descriptor.check?.(merged) ?? [];
  for (const problem of problems) issues.push(source.issue([...where.path, 'config', ...problem.path], problem.message));
  if (problems.length > 0) return undefined;
  return {
    descriptor,
    mode,
    failureMode: local?.attachment.failureMode ?? global?.attachment.failureMode ?? descriptor.defaultFailureMode,
    config: merged,
    path: where.path,
  };
}

/**
 * Resolves each route's chain: global attachments first (overridden or disabled by a route
 * attachment of the same name), then the route's own. A name may appear once per list.
 */
export function resolvePolicies(config: GatewayConfig, registry: PolicyRegistry, source: ConfigSource, issues: ConfigIssue[]) {
  const globals = config.policies.map((attachment, i) => ({ attachment, path: ['policies', i] as Path }));
  checkUnique(globals, source, issues);
  const globalPolicies = globals
    .map((g) => resolveOne(registry, g, undefined, source, issues))
    .filter((r): r is ResolvedAttachment => r !== undefined);

  const routePolicies = config.routes.map((route, r) => {
    const locals = route.policies.map((attachment, i) => ({ attachment, path: ['routes', r, 'policies', i] as Path }));
    checkUnique(locals, source, issues);
    const resolved: ResolvedAttachment[] = [];
    for (const g of globals) {
      const local = locals.find((l) => l.attachment.name === g.attachment.name);
      const one = resolveOne(registry, g, local, source, issues);
      if (one !== undefined) resolved.push(one);
    }
    for (const l of locals) {
      if (globals.some((g) => g.attachment.name === l.attachment.name)) continue;
      const one = resolveOne(registry, undefined, l, source, issues);
      if (one !== undefined) resolved.push(one);
    }
    return resolved;
  });
  return { routePolicies, globalPolicies };
}

function checkUnique(list: { attachment: PolicyAttachmentConfig; path: Path }[], source: ConfigSource, issues: ConfigIssue[]) {
  const seen = new Set<string>();
  for (const { attachment, path } of list) {
    if (seen.has(attachment.name)) issues.push(source.issue([...path, 'name'], `policy "${attachment.name}" attached twice`));
    seen.add(attachment.name);
  }
}

import type { RequestContext } from '../../core/context.js';
import { compileKey, type KeyOptions } from '../../ratelimit/keys.js';
import type { LimitCheck, LimitRule } from '../../ratelimit/types.js';
import type { LimitConfig, RateLimitConfig } from './schema.js';

const WINDOW_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseWindow(value: string): number {
  return Number(value.slice(0, -1)) * WINDOW_UNITS[value.slice(-1)]!;
}

/** The limits that apply to one class of caller (everyone, one plan, one consumer), ready to use. */
export interface RuleSet {
  readonly rules: readonly LimitRule[];
  /** The same limits divided among the processes: used when the shared backend is unreachable (failureMode open). */
  readonly fallback: readonly LimitRule[];
  /** The `RateLimit-Policy` value (draft-ietf-httpapi-ratelimit-headers-11 section 3). */
  readonly policyHeader: string;
  readonly quota: number | undefined;
}

export interface CompiledLimits {
  readonly sets: { readonly base: RuleSet; readonly byConsumer: ReadonlyMap<string, RuleSet>; readonly byPlan: ReadonlyMap<string, RuleSet> };
  /** Fills `checks` (one per limit, in order) with each limit's key for this request. */
  fillChecks(ctx: RequestContext, set: RuleSet, checks: LimitCheck[]): void;
}

function rule(limit: LimitConfig, value: number): LimitRule {
  const burst = limit.algorithm === 'gcra' && limit.burst !== undefined ? Math.max(1, Math.round((limit.burst * value) / limit.limit)) : value;
  return Object.freeze({ name: limit.name, algorithm: limit.algorithm, limit: value, windowMs: parseWindow(limit.window), burst });
}

function share(r: LimitRule, parts: number): LimitRule {
  if (parts === 1) return r;
  return Object.freeze({ ...r, limit: Math.max(1, Math.floor(r.limit / parts)), burst: Math.max(1, Math.floor(r.burst / parts)) });
}

/** `"name";q=10;w=1` per limit, the quota last (its `w` only for days: months have no fixed length). */
function policyHeader(rules: readonly LimitRule[], quotaName: string | undefined, quota: number | undefined, period: string | undefined): string {
  const items = rules.map((r) => `"${r.name}";q=${r.limit};w=${Math.max(1, Math.round(r.windowMs / 1000))}`);
  if (quotaName !== undefined && quota !== undefined) items.push(`"${quotaName}";q=${quota}` + (period === 'day' ? ';w=86400' : ''));
  return items.join(', ');
}

/** Compiles limits, overrides and keys once at load; throws with the offending field on a semantic error. */
export function compileLimits(config: RateLimitConfig, scope: string, keyOptions: KeyOptions, processes: number): CompiledLimits {
  if (config.limits.length === 0 && config.quota === undefined) throw new Error('limits: give at least one limit, or a quota');
  const names = new Set<string>();
  config.limits.forEach((l, i) => {
    if (names.has(l.name)) throw new Error(`limits[${i}].name: "${l.name}" is used twice`);
    if (l.burst !== undefined && l.algorithm !== 'gcra') throw new Error(`limits[${i}].burst: only the gcra algorithm has a burst`);
    names.add(l.name);
  });
  if (config.quota !== undefined && names.has(config.quota.name)) throw new Error(`quota.name: "${config.quota.name}" is also a limit's name`);

  const makeSet = (values: Readonly<Record<string, number>>, quota: number | undefined): RuleSet => {
    const rules = config.limits.map((l) => rule(l, values[l.name] ?? l.limit));
    return Object.freeze({
      rules,
      fallback: rules.map((r) => share(r, processes)),
      policyHeader: policyHeader(rules, config.quota?.name, quota, config.quota?.period),
      quota,
    });
  };
  const base = makeSet({}, config.quota?.limit);
  const byConsumer = new Map<string, RuleSet>();
  const byPlan = new Map<string, RuleSet>();
  config.overrides.forEach((o, i) => {
    if ((o.consumer === undefined) === (o.plan === undefined)) throw new Error(`overrides[${i}]: give exactly one of consumer or plan`);
    for (const name of Object.keys(o.limits)) if (!names.has(name)) throw new Error(`overrides[${i}].limits: no limit is named "${name}"`);
    if (o.quota !== undefined && config.quota === undefined) throw new Error(`overrides[${i}].quota: the policy has no quota`);
    const set = makeSet(o.limits, o.quota ?? config.quota?.limit);
    const target = o.consumer !== undefined ? byConsumer : byPlan;
    const id = (o.consumer ?? o.plan)!;
    if (target.has(id)) throw new Error(`overrides[${i}]: ${o.consumer !== undefined ? 'consumer' : 'plan'} "${id}" has two overrides`);
    target.set(id, set);
  });

  // Limits with the same key parts share one identity (and one Redis hash tag): computed once per request.
  const groups = new Map<string, number>();
  const readers: ((ctx: RequestContext) => string)[] = [];
  const groupOf = config.limits.map((l) => {
    const spec = JSON.stringify(l.key);
    let g = groups.get(spec);
    if (g === undefined) {
      g = readers.length;
      groups.set(spec, g);
      readers.push(compileKey(scope, l.key, keyOptions));
    }
    return g;
  });
  const suffixes = config.limits.map((l) => '}:' + l.name);
  const identities: string[] = new Array<string>(readers.length);

  return {
    sets: { base, byConsumer, byPlan },
    fillChecks(ctx, set, checks) {
      for (let g = 0; g < readers.length; g++) identities[g] = readers[g]!(ctx);
      for (let i = 0; i < set.rules.length; i++) checks[i] = { key: 'rl:{' + identities[groupOf[i]!]! + suffixes[i]!, rule: set.rules[i]! };
    },
  };
}

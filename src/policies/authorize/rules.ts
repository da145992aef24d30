import type { RequestContext } from '../../core/context.js';
import { CelPrincipal, CelRequest, compileCondition, type CompiledCondition } from './cel.js';
import type { Identity } from './identity.js';
import type { RuleConfig } from './schema.js';

/** A config problem with its place inside the policy config, so the loader can point at the line. */
export class PolicyConfigProblem extends Error {
  constructor(
    readonly path: readonly (string | number)[],
    readonly detail: string,
  ) {
    super(`${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1)}: ${detail}`);
    this.name = 'PolicyConfigProblem';
  }
}

export interface CompiledRule {
  readonly name: string;
  readonly effect: 'allow' | 'deny';
  readonly methods: ReadonlySet<string> | undefined;
  readonly scopes: readonly string[] | undefined;
  readonly allScopes: boolean;
  readonly groups: readonly string[] | undefined;
  readonly allGroups: boolean;
  readonly when: CompiledCondition | undefined;
  /** What the rule returns when it matches, built once. */
  readonly decision: RuleDecision;
}

/** What decided: the rule, or nothing matched. `error` is set when a condition failed to evaluate. */
export interface RuleDecision {
  readonly effect: 'allow' | 'deny';
  readonly rule: string | undefined;
  readonly error?: string;
}

const NO_MATCH: RuleDecision = Object.freeze({ effect: 'deny', rule: undefined });

/** Compiles every rule at load; a condition that does not type-check is refused with its path. */
export function compileRules(rules: readonly RuleConfig[]): readonly CompiledRule[] {
  const names = new Set<string>();
  return rules.map((rule, i) => {
    if (names.has(rule.name)) throw new PolicyConfigProblem(['rules', i, 'name'], `duplicate rule name "${rule.name}"`);
    names.add(rule.name);
    let when: CompiledCondition | undefined;
    if (rule.when !== undefined) {
      try {
        when = compileCondition(rule.when);
      } catch (error) {
        throw new PolicyConfigProblem(['rules', i, 'when'], `rule "${rule.name}": ${(error as Error).message}`);
      }
    }
    return Object.freeze({
      name: rule.name,
      effect: rule.effect,
      methods: rule.methods === undefined ? undefined : new Set<string>(rule.methods),
      scopes: rule.scopes,
      allScopes: rule.scopesMatch === 'all',
      groups: rule.groups,
      allGroups: rule.groupsMatch === 'all',
      when,
      decision: Object.freeze({ effect: rule.effect, rule: rule.name }),
    });
  });
}

/** Lists are short (a handful of scopes or roles): a linear scan beats building a Set per request. */
function holds(have: readonly string[], wanted: readonly string[], all: boolean): boolean {
  if (all) {
    for (const name of wanted) if (!have.includes(name)) return false;
    return true;
  }
  for (const name of wanted) if (have.includes(name)) return true;
  return false;
}

/**
 * The first rule whose conditions all hold decides (an ordered list, like a firewall): cheap
 * checks first, CEL last. No rule matching is a denial (least privilege). A condition that fails
 * to evaluate (a missing claim, a claim of the wrong type) ends the walk with a denial naming that
 * rule: an allow rule that cannot be evaluated must not let through, and a deny rule that cannot
 * be evaluated must not be skipped.
 */
export function decide(rules: readonly CompiledRule[], ctx: RequestContext, identity: Identity, now: number): RuleDecision {
  let variables: { request: CelRequest; principal: CelPrincipal } | undefined;
  for (const rule of rules) {
    if (rule.methods !== undefined && !rule.methods.has(ctx.method)) continue;
    if (rule.scopes !== undefined && !holds(identity.scopes, rule.scopes, rule.allScopes)) continue;
    if (rule.groups !== undefined && !holds(identity.groups, rule.groups, rule.allGroups)) continue;
    if (rule.when !== undefined) {
      variables ??= { request: new CelRequest(ctx, now), principal: new CelPrincipal(identity) };
      let matched: boolean;
      try {
        matched = rule.when(variables);
      } catch (error) {
        return { effect: 'deny', rule: rule.name, error: firstLine((error as Error).message) };
      }
      if (!matched) continue;
    }
    return rule.decision;
  }
  return NO_MATCH;
}

function firstLine(message: string): string {
  const newline = message.indexOf('\n');
  return newline === -1 ? message : message.slice(0, newline);
}

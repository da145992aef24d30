import type { Authenticator, AuthResult } from '../../auth/authenticator.js';
import { authenticatorRegistry, type AuthenticatorRegistry } from '../../auth/registry.js';
import { configValidator, describeAjvError, usefulErrors } from '../../config/ajv.js';
import { deepFreeze } from '../../config/freeze.js';
import type { Principal, RequestContext } from '../../core/context.js';
import type { PolicyDeps, PolicyInstance } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import type { AuthenticateConfig } from './schema.js';

/** Compiles each method against its own schema; errors name the method so the loader can locate them. */
function compileMethods(config: AuthenticateConfig, deps: PolicyDeps, registry: AuthenticatorRegistry): Authenticator[] {
  return config.methods.map((method, i) => {
    const factory = registry.get(method.type);
    if (factory === undefined) throw new Error(`methods[${i}].type: unknown authentication method "${method.type}" (known: ${[...registry.keys()].join(', ') || 'none'})`);
    const methodConfig = structuredClone(method.config) as Record<string, unknown>;
    const validate = configValidator(factory.schema);
    if (!validate(methodConfig)) {
      const first = usefulErrors(validate.errors ?? [])[0];
      throw new Error(`methods[${i}].config${first?.instancePath.replaceAll('/', '.') ?? ''}: ${first === undefined ? 'invalid' : describeAjvError(first)}`);
    }
    return factory.create(deepFreeze(methodConfig), deps);
  });
}

/**
 * The authentication phase: tries each method, combines their answers (`any` or `all`), sets
 * `ctx.principal` and the identity headers. 401 answers are vague on purpose (RFC 6750 section
 * 3.1 error codes only); the precise reason goes to the decision log.
 */
export function createAuthenticatePolicy(config: AuthenticateConfig, deps: PolicyDeps, registry = authenticatorRegistry()): PolicyInstance {
  const methods = compileMethods(config, deps, registry);
  const { identityHeaders: names, anonymous, combine } = config;
  const challenges = methods.map((m) => m.challenge).join(', ');
  const headerNames = Object.values(names);

  const required = () =>
    new GatewayError('GW_AUTHN_REQUIRED', { reason: 'no credential for any method', headers: { 'www-authenticate': challenges } });
  const invalid = (method: Authenticator, reason: string) =>
    new GatewayError('GW_AUTHN_INVALID', {
      reason: `${method.type}: ${reason}`,
      headers: { 'www-authenticate': method.challenge.startsWith('Bearer') ? `${method.challenge}, error="invalid_token"` : method.challenge },
    });

  function admit(ctx: RequestContext, principal: Principal): void {
    ctx.principal = principal;
    ctx.setUpstreamHeader(names.subject, principal.subject ?? null);
    ctx.setUpstreamHeader(names.consumer, principal.consumerId ?? null);
    ctx.setUpstreamHeader(names.scopes, principal.scopes === undefined ? null : principal.scopes.join(' '));
    ctx.setUpstreamHeader(names.method, principal.method);
  }

  /** Decides once every method has answered, in order. */
  function decide(ctx: RequestContext, results: readonly AuthResult[]): void {
    let first: Principal | undefined;
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!;
      if (result.kind === 'rejected') throw invalid(methods[i]!, result.reason);
      if (result.kind === 'authenticated') first ??= result.principal;
      else if (combine === 'all') throw required();
    }
    if (first !== undefined) return admit(ctx, first);
    if (anonymous !== undefined) return admit(ctx, { method: 'anonymous', consumerId: anonymous.consumerId });
    throw required();
  }

  /** With `any` the first method that says anything decides; `all` asks every method. */
  const decisive = (result: AuthResult) => combine === 'any' && result.kind !== 'not-applicable';

  function run(ctx: RequestContext, start: number, results: AuthResult[]): void | Promise<void> {
    for (let i = start; i < methods.length; i++) {
      const answer = methods[i]!.authenticate(ctx);
      if (answer instanceof Promise) {
        return answer.then((result) => {
          results.push(result);
          return decisive(result) ? decide(ctx, results) : run(ctx, i + 1, results);
        });
      }
      results.push(answer);
      if (decisive(answer)) break;
    }
    return decide(ctx, results);
  }

  return {
    handle(ctx) {
      // Client copies of identity headers never reach the upstream, whatever happens next.
      for (const name of headerNames) ctx.setUpstreamHeader(name, null);
      return run(ctx, 0, []);
    },
    async close() {
      await Promise.allSettled(methods.map((m) => m.close?.()));
    },
  };
}

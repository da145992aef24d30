import type { Authenticator, AuthResult } from '../../auth/authenticator.js';
import { authenticatorRegistry, type AuthenticatorRegistry } from '../../auth/registry.js';
import { configValidator, describeAjvError, usefulErrors } from '../../config/ajv.js';
import { deepFreeze } from '../../config/freeze.js';
import type { Principal, RequestContext } from '../../core/context.js';
import type { PolicyDeps, PolicyInstance } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import { Lockout, type Lock } from './lockout.js';
import type { AuthenticateConfig } from './schema.js';

/**
 * The credential a success used, to reset its failure counter and honour its lockout: the method's
 * own `credentialId` when it gives one, else `<method>:<keyId>` from the principal's claims (the
 * form the api-key method uses in its rejections).
 */
function credentialOf(result: AuthResult & { kind: 'authenticated' }): string | undefined {
  const own = (result as { credentialId?: unknown }).credentialId;
  if (typeof own === 'string' && own !== '') return own;
  const keyId = result.principal.claims?.['keyId'];
  return typeof keyId === 'string' && keyId !== '' ? `${result.principal.method}:${keyId}` : undefined;
}

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

  /** Asks the methods in order until one is decisive; stays synchronous while they are. */
  function collect(ctx: RequestContext, start: number, results: AuthResult[]): AuthResult[] | Promise<AuthResult[]> {
    for (let i = start; i < methods.length; i++) {
      const answer = methods[i]!.authenticate(ctx);
      if (answer instanceof Promise) {
        return answer.then((result) => {
          results.push(result);
          return decisive(result) ? results : collect(ctx, i + 1, results);
        });
      }
      results.push(answer);
      if (decisive(answer)) break;
    }
    return results;
  }

  function run(ctx: RequestContext): void | Promise<void> {
    const results = collect(ctx, 0, []);
    return results instanceof Promise ? results.then((r) => decide(ctx, r)) : decide(ctx, results);
  }

  const lockout = new Lockout(config.lockout, deps);
  const locked = (lock: Lock) => {
    const seconds = Math.max(1, Math.ceil((lock.until - deps.now()) / 1000));
    const reason = `lockout: ${lock.source} locked out for ${seconds}s (level ${lock.level})`;
    return config.lockout.lockoutStatus === 429
      ? new GatewayError('GW_AUTHN_LOCKED', { reason, headers: { 'retry-after': String(seconds) } })
      : new GatewayError('GW_AUTHN_INVALID', { reason, headers: { 'www-authenticate': challenges } });
  };

  /**
   * With brute-force protection: a locked client IP is refused before any method runs (no hashing,
   * no verifying for it); a locked credential as soon as a method has named it. Failures are counted
   * per IP and per credential; a success resets only the credential's own counter. Each step stays
   * synchronous while its answer is (memory StateStore, cached credentials): the common success then
   * costs no promise at all.
   */
  function guarded(ctx: RequestContext): void | Promise<void> {
    const ipLock = lockout.lockedIp(ctx.clientIp);
    return ipLock instanceof Promise ? ipLock.then((lock) => afterIpCheck(ctx, lock)) : afterIpCheck(ctx, ipLock);
  }

  function afterIpCheck(ctx: RequestContext, ipLock: Lock | undefined): void | Promise<void> {
    if (ipLock !== undefined) throw locked(ipLock);
    const results = collect(ctx, 0, []);
    return results instanceof Promise ? results.then((r) => afterMethods(ctx, r)) : afterMethods(ctx, results);
  }

  function afterMethods(ctx: RequestContext, results: AuthResult[]): void | Promise<void> {
    const rejected = results.find((r) => r.kind === 'rejected');
    const admitted = rejected === undefined ? results.find((r) => r.kind === 'authenticated') : undefined;
    const credentialId = admitted === undefined ? undefined : credentialOf(admitted);
    if (credentialId === undefined) return conclude(ctx, results, rejected, undefined);
    const credLock = lockout.lockedCredential(credentialId);
    const then = (lock: Lock | undefined) => {
      if (lock !== undefined) throw locked(lock);
      return conclude(ctx, results, rejected, credentialId);
    };
    return credLock instanceof Promise ? credLock.then(then) : then(credLock);
  }

  function conclude(ctx: RequestContext, results: AuthResult[], rejected: AuthResult | undefined, credentialId: string | undefined): void | Promise<void> {
    try {
      decide(ctx, results);
    } catch (error) {
      if (error instanceof GatewayError && (error.code === 'GW_AUTHN_INVALID' || (error.code === 'GW_AUTHN_REQUIRED' && lockout.countMissing))) {
        return lockout.failure(ctx.clientIp, rejected?.kind === 'rejected' ? rejected.credentialId : undefined).then((lock) => {
          throw lock === undefined ? error : locked(lock);
        });
      }
      throw error;
    }
    return credentialId === undefined ? undefined : lockout.success(credentialId);
  }

  return {
    handle(ctx) {
      // Client copies of identity headers never reach the upstream, whatever happens next.
      for (const name of headerNames) ctx.setUpstreamHeader(name, null);
      return lockout.enabled ? guarded(ctx) : run(ctx);
    },
    async close() {
      await Promise.allSettled(methods.map((m) => m.close?.()));
    },
  };
}

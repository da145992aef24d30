import type { RequestContext } from '../../core/context.js';
import type { PolicyDeps, PolicyInstance } from '../../core/policy.js';
import { hasBody, isJsonContentType, jsonBody } from '../../core/request-body.js';
import { parseByteSize } from '../../config/units.js';
import { GatewayError } from '../../errors/index.js';
import { IdentityResolver, splitDotPath, type Identity } from './identity.js';
import { bindingApplies, checkBinding, compileBindings, OwnershipService, type CompiledBinding } from './ownership.js';
import { applicablePaths, compilePropertyRules, firstWritten, prototypeKey, removeProperties, type PropertyPath } from './properties.js';
import { compileRules, decide } from './rules.js';
import type { AuthorizeConfig } from './schema.js';

/** Per-request state: the response properties this principal may not read. */
const READ_PATHS = 'authorize:read-paths';

/** A header value may only carry visible ASCII tokens (RFC 9110 section 5.5): a group named "a\r\nb" is left out. */
const TOKEN = /^[\x21-\x7e]{1,256}$/;
const joinTokens = (names: readonly string[]) => names.filter((n) => TOKEN.test(n)).join(' ');

/** Everything `create` compiles; exported so the config loader can check a config without building a policy. */
export function compileAuthorize(config: AuthorizeConfig) {
  return {
    rules: compileRules(config.rules),
    bindings: compileBindings(config.ownership.bindings),
    write: compilePropertyRules(config.properties.write, 'write'),
    read: compilePropertyRules(config.properties.read, 'read'),
  };
}

/**
 * The authorization phase (OWASP API Security Top 10 2023: API1 object level, API3 property level,
 * API5 function level). In order: ordered rules (methods, scopes, groups, CEL), ownership bindings,
 * the ownership service, request body properties; then the decision context for the upstream.
 * Denials are GW_AUTHZ_DENIED with nothing client-facing beyond the title: the rule and the reason
 * go to the decision log only.
 */
export function createAuthorizePolicy(config: AuthorizeConfig, deps: PolicyDeps): PolicyInstance {
  const { rules, bindings, write, read } = compileAuthorize(config);
  const resolver = new IdentityResolver(config.claims.scopes.map(splitDotPath), config.claims.groups.map(splitDotPath));
  const service = config.ownership.service === undefined ? undefined : new OwnershipService(config.ownership.service, deps.routeName, deps.now);
  const maxBodyBytes = parseByteSize(config.properties.maxBodyBytes);
  const maxResponseBytes = parseByteSize(config.properties.maxResponseBytes);
  const names = config.identityHeaders;
  const headerNames = Object.values(names);
  const bodyBindings = bindings.filter((b) => b.source === 'body');
  const otherBindings = bindings.filter((b) => b.source !== 'body');

  const denied = (reason: string) => new GatewayError('GW_AUTHZ_DENIED', { reason });
  const writeDenied = (reason: string) =>
    config.properties.writeDeniedStatus === 400 ? new GatewayError('GW_BODY_PROPERTY_DENIED', { reason }) : denied(reason);

  function admit(ctx: RequestContext, identity: Identity, rule: string): void {
    ctx.decision.reason = `authorize: rule "${rule}" allowed`;
    const { principal } = identity;
    ctx.setUpstreamHeader(names.rule, rule);
    ctx.setUpstreamHeader(names.groups, identity.groups.length === 0 ? null : joinTokens(identity.groups));
    ctx.setUpstreamHeader(names.scopes, identity.scopes.length === 0 ? null : joinTokens(identity.scopes));
    ctx.setUpstreamHeader(names.consumer, principal.consumerId ?? null);
    ctx.setUpstreamHeader(names.subject, principal.subject ?? null);
    if (read.length > 0) {
      const paths = applicablePaths(read, ctx.method, identity);
      if (paths !== undefined && paths.length > 0) ctx.state.set(READ_PATHS, paths);
    }
  }

  function checkBindings(list: readonly CompiledBinding[], ctx: RequestContext, identity: Identity, body: unknown): void {
    for (const binding of list) {
      if (!bindingApplies(binding, ctx.method, identity)) continue;
      const why = checkBinding(binding, ctx, identity, body);
      if (why !== undefined) throw denied(why);
    }
  }

  /** The checks that must read the body or call the ownership service. */
  async function checkSlow(ctx: RequestContext, identity: Identity, rule: string, writePaths: PropertyPath[] | undefined, ask: boolean): Promise<void> {
    if (writePaths !== undefined && hasBody(ctx) && !isJsonContentType(ctx.header('content-type'))) {
      // An upstream may parse a form or a mislabelled body: what cannot be checked is refused.
      throw writeDenied('body is not JSON: its properties cannot be checked');
    }
    const body = await jsonBody(ctx, maxBodyBytes, 'authorize');
    checkBindings(bodyBindings, ctx, identity, body);
    if (writePaths !== undefined) {
      const proto = prototypeKey(body);
      if (proto !== undefined) throw writeDenied(`body carries the prototype key ${proto}`);
      const written = writePaths.length === 0 ? undefined : firstWritten(body, writePaths);
      if (written !== undefined) throw writeDenied(`property ${written} may not be written`);
    }
    if (ask && !(await service!.owns(ctx, identity))) throw denied('ownership service: the object does not belong to the principal');
    admit(ctx, identity, rule);
  }

  return {
    handle(ctx) {
      // Client copies of the decision headers never reach the upstream, whatever happens next.
      for (const name of headerNames) ctx.setUpstreamHeader(name, null);
      const principal = ctx.principal;
      if (principal === undefined) throw denied('no principal: authenticate did not run');
      const identity = resolver.resolve(principal);
      const decision = decide(rules, ctx, identity, deps.now());
      if (decision.rule === undefined) throw denied('no rule allowed the request');
      if (decision.error !== undefined) throw denied(`rule "${decision.rule}" could not be evaluated: ${decision.error}`);
      if (decision.effect === 'deny') throw denied(`rule "${decision.rule}" denied the request`);
      checkBindings(otherBindings, ctx, identity, undefined);
      const writePaths = write.length === 0 ? undefined : applicablePaths(write, ctx.method, identity);
      const needsBody = writePaths !== undefined || bodyBindings.some((b) => bindingApplies(b, ctx.method, identity));
      const ask = service !== undefined && service.applies(ctx.method, identity);
      if (!needsBody && !ask) return admit(ctx, identity, decision.rule);
      return checkSlow(ctx, identity, decision.rule, writePaths, ask);
    },
    wantsResponseBody(ctx, head) {
      if (!ctx.state.has(READ_PATHS) || !isJsonContentType(head.get('content-type'))) return undefined;
      // A body too large to filter is refused, never passed on unfiltered.
      return { maxBytes: maxResponseBytes, overflow: 'block' };
    },
    onResponseBody(ctx, body) {
      const paths = ctx.state.get(READ_PATHS) as PropertyPath[];
      if (body.length === 0) return body;
      // Unparseable JSON is a fault: with failureMode closed the response fails (503), nothing leaks.
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      return removeProperties(parsed, paths) === 0 ? body : Buffer.from(JSON.stringify(parsed), 'utf8');
    },
    async close() {
      await service?.close();
    },
  };
}

import { describe, expect, it } from 'vitest';
import type { Principal, RequestContext } from '../../core/context.js';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { authorizePolicy } from './index.js';
import type { AuthorizeConfig } from './schema.js';

const NOON = Date.parse('2030-01-07T12:00:00Z');
const deps = makeDeps({ now: () => NOON });

function request(principal: Principal | undefined, options: Parameters<typeof makeContext>[0] = {}, params: Record<string, string> = {}): RequestContext {
  const ctx = makeContext(options);
  ctx.principal = principal;
  ctx.params = params;
  return ctx;
}

/** Runs the policy; returns the denial's reason, or 'allowed' with the rule in the decision. */
function outcome(config: object, ctx: RequestContext): string {
  const policy = compilePolicy(authorizePolicy, config, deps);
  try {
    const result = policy.handle!(ctx);
    if (result instanceof Promise) throw new Error('unexpected async path');
  } catch (error) {
    const denial = catchGatewayError(() => {
      throw error;
    });
    expect(denial.code).toBe('GW_AUTHZ_DENIED');
    expect(denial.detail).toBeUndefined();
    return `denied: ${denial.reason}`;
  }
  return `allowed: ${ctx.decision.reason}`;
}

const jwt = (claims: Record<string, unknown>, extra: Partial<Principal> = {}): Principal => ({ method: 'jwt', subject: 'alice', claims, ...extra });

describe('authorize rules: scopes', () => {
  const config = {
    rules: [
      { name: 'read', methods: ['GET'], scopes: ['orders:read', 'orders:admin'], scopesMatch: 'any' },
      { name: 'write', methods: ['POST'], scopes: ['orders:write', 'orders:verified'] },
    ],
  };

  it('allows with any one of the scopes when scopesMatch is any', () => {
    expect(outcome(config, request(jwt({ scope: 'profile orders:admin' })))).toBe('allowed: authorize: rule "read" allowed');
  });

  it('needs every scope when scopesMatch is all (the default)', () => {
    expect(outcome(config, request(jwt({ scp: ['orders:write'] }), { method: 'POST' }))).toBe('denied: no rule allowed the request');
    expect(outcome(config, request(jwt({ scp: ['orders:write', 'orders:verified'] }), { method: 'POST' }))).toBe('allowed: authorize: rule "write" allowed');
  });

  it('reads scopes from a space-separated string, an array, and the authenticated scopes alike', () => {
    expect(outcome(config, request(jwt({ scope: 'orders:read' })))).toContain('allowed');
    expect(outcome(config, request(jwt({ scp: ['orders:read'] })))).toContain('allowed');
    expect(outcome(config, request({ method: 'api-key', consumerId: 'c1', scopes: ['orders:read'] }))).toContain('allowed');
  });

  it('ignores a scope claim of the wrong type instead of reading it as granted', () => {
    expect(outcome(config, request(jwt({ scope: 42 })))).toBe('denied: no rule allowed the request');
    expect(outcome(config, request(jwt({ scp: [{ name: 'orders:read' }] })))).toBe('denied: no rule allowed the request');
    // A substring of a granted scope is not the scope.
    expect(outcome(config, request(jwt({ scope: 'orders:reader' })))).toBe('denied: no rule allowed the request');
  });

  it('denies a method no rule names', () => {
    expect(outcome(config, request(jwt({ scope: 'orders:read orders:write orders:verified' }), { method: 'DELETE' }))).toBe('denied: no rule allowed the request');
  });
});

describe('authorize rules: groups (roles)', () => {
  const config = { rules: [{ name: 'admins', groups: ['admin', 'ops'] }, { name: 'both', groups: ['billing', 'auditor'], groupsMatch: 'all' }] };

  it('reads Keycloak realm_access.roles through its dot path', () => {
    expect(outcome(config, request(jwt({ realm_access: { roles: ['admin'] } })))).toBe('allowed: authorize: rule "admins" allowed');
  });

  it('reads groups from a configured claim path only', () => {
    expect(outcome({ ...config, claims: { groups: ['app.roles'] } }, request(jwt({ app: { roles: 'ops' } })))).toContain('rule "admins" allowed');
    // With only app.roles configured, a `groups` claim no longer counts.
    expect(outcome({ ...config, claims: { groups: ['app.roles'] } }, request(jwt({ groups: ['admin'] })))).toContain('denied');
  });

  it('takes API-key groups from the principal (the consumer) and needs all with groupsMatch all', () => {
    const apiKey = (groups: string[]): Principal => ({ method: 'api-key', consumerId: 'c1', subject: 'c1', groups });
    expect(outcome(config, request(apiKey(['billing'])))).toContain('denied');
    expect(outcome(config, request(apiKey(['billing', 'auditor'])))).toBe('allowed: authorize: rule "both" allowed');
  });

  it('does not treat a claim path as a prototype walk', () => {
    expect(outcome({ ...config, claims: { groups: ['__proto__.roles'] } }, request(jwt({})))).toContain('denied');
  });

  it('denies a request with no principal at all', () => {
    expect(outcome(config, request(undefined))).toBe('denied: no principal: authenticate did not run');
  });
});

describe('authorize rules: CEL conditions', () => {
  it('evaluates request params, query, headers, ip, time and principal fields', () => {
    const config = {
      rules: [
        {
          name: 'owner-in-office-hours',
          when:
            'request.params.userId == principal.subject && request.query.view == "full" && request.headers["x-tenant"] == "t1" && ' +
            'request.ip.startsWith("10.") && request.time.getHours("UTC") >= 9 && request.time.getHours("UTC") < 17 && principal.method == "jwt"',
        },
      ],
    };
    const ctx = () => request(jwt({}), { url: '/u/alice?view=full', headers: { 'x-tenant': 't1' }, clientIp: '10.1.2.3' }, { userId: 'alice' });
    expect(outcome(config, ctx())).toBe('allowed: authorize: rule "owner-in-office-hours" allowed');
    const other = request(jwt({}), { url: '/u/bob?view=full', headers: { 'x-tenant': 't1' }, clientIp: '10.1.2.3' }, { userId: 'bob' });
    expect(outcome(config, other)).toBe('denied: no rule allowed the request');
    const late = compilePolicy(authorizePolicy, config, makeDeps({ now: () => NOON + 6 * 3_600_000 }));
    expect(catchGatewayError(() => late.handle!(ctx())).code).toBe('GW_AUTHZ_DENIED');
  });

  it('denies when a query parameter the rule reads is repeated with different values', () => {
    const config = { rules: [{ name: 'own-view', when: 'request.query.owner == principal.subject' }] };
    expect(outcome(config, request(jwt({}), { url: '/x?owner=alice&owner=alice' }))).toContain('allowed');
    expect(outcome(config, request(jwt({}), { url: '/x?owner=alice&owner=bob' }))).toMatch(/^denied: rule "own-view" could not be evaluated: No such key: owner/);
  });

  it('denies, naming the rule, when a claim the condition reads is missing', () => {
    const config = { rules: [{ name: 'tier', when: 'principal.claims.tier == "gold"' }] };
    expect(outcome(config, request(jwt({ tier: 'gold' })))).toContain('allowed');
    expect(outcome(config, request(jwt({})))).toMatch(/^denied: rule "tier" could not be evaluated: No such key: tier/);
  });

  it('denies when a claim has the wrong type for the comparison', () => {
    const config = { rules: [{ name: 'level', when: 'principal.claims.level > 3' }] };
    expect(outcome(config, request(jwt({ level: 5 })))).toContain('allowed');
    expect(outcome(config, request(jwt({ level: 'high' })))).toMatch(/^denied: rule "level" could not be evaluated/);
  });

  it('lets has() guard an optional claim', () => {
    const config = { rules: [{ name: 'guarded', when: 'has(principal.claims.tier) && principal.claims.tier == "gold"' }, { name: 'rest', effect: 'allow', methods: ['GET'] }] };
    expect(outcome(config, request(jwt({}), { method: 'POST' }))).toBe('denied: no rule allowed the request');
    expect(outcome(config, request(jwt({})))).toBe('allowed: authorize: rule "rest" allowed');
  });

  it('reads the mTLS certificate when authentication set one, and an empty map otherwise', () => {
    const config = { rules: [{ name: 'cert', when: 'has(principal.certificate.fingerprint) && principal.certificate.fingerprint == "ab:cd"' }] };
    expect(outcome(config, request(jwt({}, { certificate: { fingerprint: 'ab:cd' } } as unknown as Partial<Principal>)))).toContain('allowed');
    expect(outcome(config, request(jwt({})))).toContain('denied');
  });
});

describe('authorize rules: several rules interacting', () => {
  const config = {
    rules: [
      { name: 'block-suspended', effect: 'deny', when: 'has(principal.claims.suspended) && principal.claims.suspended == true' },
      { name: 'admins', groups: ['admin'] },
      { name: 'no-deletes', effect: 'deny', methods: ['DELETE'] },
      { name: 'readers', scopes: ['read'] },
    ],
  };

  it('lets the first matching rule decide: a deny above an allow wins', () => {
    expect(outcome(config, request(jwt({ groups: ['admin'], suspended: true })))).toBe('denied: rule "block-suspended" denied the request');
  });

  it('lets an allow above a deny win for the callers it matches', () => {
    expect(outcome(config, request(jwt({ groups: ['admin'] }), { method: 'DELETE' }))).toBe('allowed: authorize: rule "admins" allowed');
    expect(outcome(config, request(jwt({ scope: 'read' }), { method: 'DELETE' }))).toBe('denied: rule "no-deletes" denied the request');
    expect(outcome(config, request(jwt({ scope: 'read' }), { method: 'GET' }))).toBe('allowed: authorize: rule "readers" allowed');
  });

  it('denies when no rule matches, and when the rule list is empty', () => {
    expect(outcome(config, request(jwt({})))).toBe('denied: no rule allowed the request');
    expect(outcome({}, request(jwt({ groups: ['admin'] })))).toBe('denied: no rule allowed the request');
  });
});

describe('authorize rules: compile errors at load', () => {
  const problems = (rules: object[]) => authorizePolicy.check!(validatePolicyConfig<AuthorizeConfig>(authorizePolicy, { rules }));

  it('locates a rule that does not parse', () => {
    const [problem] = problems([{ name: 'ok', when: 'true' }, { name: 'broken', when: 'request.method == ' }]);
    expect(problem!.path).toEqual(['rules', 1, 'when']);
    expect(problem!.message).toMatch(/^rule "broken": Unexpected token/);
  });

  it('refuses a field that does not exist, a type mismatch, and a non-bool result', () => {
    expect(problems([{ name: 'typo', when: 'request.metod == "GET"' }])[0]!.message).toContain('No such key: metod');
    expect(problems([{ name: 'types', when: 'request.method == 1' }])[0]!.message).toContain('no such overload');
    expect(problems([{ name: 'string', when: 'request.method' }])[0]!.message).toContain('must be a bool expression');
    expect(problems([{ name: 'unknown', when: 'user.admin' }])[0]!.path).toEqual(['rules', 0, 'when']);
  });

  it('refuses duplicate rule names and makes create refuse what check refuses', () => {
    expect(problems([{ name: 'a' }, { name: 'a' }])[0]!.path).toEqual(['rules', 1, 'name']);
    expect(() => compilePolicy(authorizePolicy, { rules: [{ name: 'x', when: '1 +' }] })).toThrow(/rules\[0\]\.when: rule "x"/);
  });
});

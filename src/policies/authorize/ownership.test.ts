import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal, RequestContext } from '../../core/context.js';
import type { PolicyInstance } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { compilePolicy } from '../../../test/helpers/policy.js';
import { authorizePolicy } from './index.js';

const alice: Principal = { method: 'jwt', subject: 'alice', consumerId: 'c-alice', claims: { org: { id: 'o1' } } };
const admin: Principal = { method: 'jwt', subject: 'root', consumerId: 'c-root', claims: { groups: ['admin'] } };
const ALLOW_ALL = [{ name: 'anyone' }];

function ctxFor(principal: Principal, url: string, params: Record<string, string> = {}, method = 'GET'): RequestContext {
  const ctx = makeContext({ url, method });
  ctx.principal = principal;
  ctx.params = params;
  return ctx;
}

/** The denial reason, or 'allowed'. */
async function run(policy: PolicyInstance, ctx: RequestContext): Promise<string> {
  try {
    await policy.handle!(ctx);
    return 'allowed';
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    expect(error.code).toBe('GW_AUTHZ_DENIED');
    return error.reason!;
  }
}

describe('authorize ownership bindings', () => {
  const policy = () =>
    compilePolicy(authorizePolicy, {
      rules: ALLOW_ALL,
      ownership: {
        bindings: [
          { name: 'own-user', source: 'param', field: 'userId', unlessGroups: ['admin'] },
          { name: 'own-org', source: 'query', field: 'org', equals: 'claims.org.id', ifMissing: 'allow' },
        ],
      },
    });

  it('allows the owner and denies another identity on the same object', async () => {
    expect(await run(policy(), ctxFor(alice, '/users/alice', { userId: 'alice' }))).toBe('allowed');
    expect(await run(policy(), ctxFor(alice, '/users/bob', { userId: 'bob' }))).toBe('binding "own-user": param userId does not belong to the principal');
  });

  it('lets an override group through, and only that group', async () => {
    expect(await run(policy(), ctxFor(admin, '/users/bob', { userId: 'bob' }))).toBe('allowed');
    const notAdmin = { ...alice, claims: { groups: ['administrator'] } };
    expect(await run(policy(), ctxFor(notAdmin, '/users/bob', { userId: 'bob' }))).toContain('does not belong');
  });

  it('denies when the parameter is missing (ifMissing deny) and skips when ifMissing allow', async () => {
    expect(await run(policy(), ctxFor(alice, '/users'))).toBe('binding "own-user": param userId missing');
    expect(await run(policy(), ctxFor(alice, '/users/alice', { userId: 'alice' }))).toBe('allowed');
  });

  it('compares a query parameter with a claim path, decoded, and refuses it repeated with another value (parameter pollution)', async () => {
    expect(await run(policy(), ctxFor(alice, '/users/alice?org=o1', { userId: 'alice' }))).toBe('allowed');
    expect(await run(policy(), ctxFor(alice, '/users/alice?org=o2', { userId: 'alice' }))).toContain('binding "own-org"');
    expect(await run(policy(), ctxFor(alice, '/users/alice?org=o2&org=o1', { userId: 'alice' }))).toContain('binding "own-org"');
    expect(await run(policy(), ctxFor(alice, '/users/alice?org=o1&org=o2', { userId: 'alice' }))).toBe('binding "own-org": query org repeated with different values');
    expect(await run(policy(), ctxFor(alice, '/users/alice?org=o1&org=o1', { userId: 'alice' }))).toBe('allowed');
    expect(await run(policy(), ctxFor(alice, '/users/alice?org=%6F1', { userId: 'alice' }))).toBe('allowed');
  });

  it('compares a request header (a tenant id) with the consumer', async () => {
    const tenant = compilePolicy(authorizePolicy, { rules: ALLOW_ALL, ownership: { bindings: [{ name: 'tenant', source: 'header', field: 'X-Tenant', equals: 'consumer' }] } });
    const withTenant = (value: string | undefined) => {
      const ctx = makeContext({ url: '/x', headers: value === undefined ? {} : { 'x-tenant': value } });
      ctx.principal = alice;
      return ctx;
    };
    expect(await run(tenant, withTenant('c-alice'))).toBe('allowed');
    expect(await run(tenant, withTenant('c-bob'))).toBe('binding "tenant": header x-tenant does not belong to the principal');
    expect(await run(tenant, withTenant(undefined))).toBe('binding "tenant": header x-tenant missing');
  });

  it('denies when the principal has no subject to compare with', async () => {
    const anonymous: Principal = { method: 'anonymous', consumerId: 'anon' };
    expect(await run(policy(), ctxFor(anonymous, '/users/x', { userId: '' }))).toContain('principal has no value');
  });

  it('checks a JSON body field, refusing an array or object where an id belongs', async () => {
    const bodyPolicy = compilePolicy(authorizePolicy, { rules: ALLOW_ALL, ownership: { bindings: [{ name: 'own-order', source: 'body', field: 'order.owner' }] } });
    const withBody = (value: unknown) => {
      const ctx = makeContext({ url: '/orders', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '10' } });
      ctx.principal = alice;
      ctx.parsedBody = { value };
      return ctx;
    };
    expect(await run(bodyPolicy, withBody({ order: { owner: 'alice' } }))).toBe('allowed');
    expect(await run(bodyPolicy, withBody({ order: { owner: 'bob' } }))).toContain('does not belong');
    expect(await run(bodyPolicy, withBody({ order: { owner: ['alice'] } }))).toContain('does not belong');
    expect(await run(bodyPolicy, withBody({ order: {} }))).toContain('missing');
  });
});

describe('authorize ownership service', () => {
  let server: Server | undefined;
  const closers: PolicyInstance[] = [];
  afterEach(async () => {
    for (const p of closers.splice(0)) await p.close?.();
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
      server = undefined;
    }
  });

  /** A real ownership service: alice owns /docs/1, anything with "slow" hangs, "/docs/500" fails. */
  async function startService(): Promise<{ url: string; calls: () => number }> {
    let calls = 0;
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        calls++;
        const asked = JSON.parse(text) as { subject: string; path: string; method: string; params: Record<string, string> };
        if (asked.path.includes('slow')) return;
        if (asked.path === '/docs/500') return res.writeHead(500).end();
        const allowed = asked.subject === 'alice' && asked.params['id'] === '1' && asked.method === 'GET';
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ allowed }));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/check`, calls: () => calls };
  }

  async function servicePolicy(url: string, now: () => number, extra: object = {}) {
    const policy = compilePolicy(
      authorizePolicy,
      { rules: ALLOW_ALL, ownership: { service: { url, timeout: '5s', cacheTtl: '10s', cacheMaxEntries: 2, unlessGroups: ['admin'], ...extra } } },
      makeDeps({ now }),
    );
    closers.push(policy);
    return policy;
  }

  it('allows what the service says the principal owns and denies the rest', async () => {
    const { url } = await startService();
    const policy = await servicePolicy(url, () => 0);
    expect(await run(policy, ctxFor(alice, '/docs/1', { id: '1' }))).toBe('allowed');
    expect(await run(policy, ctxFor({ ...alice, subject: 'bob' }, '/docs/1', { id: '1' }))).toBe('ownership service: the object does not belong to the principal');
    expect(await run(policy, ctxFor(alice, '/docs/2', { id: '2' }))).toContain('does not belong');
  });

  it('caches answers for the TTL, per subject and path, within a bounded size', async () => {
    const { url, calls } = await startService();
    let now = 0;
    const policy = await servicePolicy(url, () => now);
    await run(policy, ctxFor(alice, '/docs/1', { id: '1' }));
    await run(policy, ctxFor(alice, '/docs/1', { id: '1' }));
    expect(calls()).toBe(1);
    now = 10_001;
    await run(policy, ctxFor(alice, '/docs/1', { id: '1' }));
    expect(calls()).toBe(2);
    // Two more paths push the first out of a cache of two.
    await run(policy, ctxFor(alice, '/docs/2', { id: '2' }));
    await run(policy, ctxFor(alice, '/docs/3', { id: '3' }));
    await run(policy, ctxFor(alice, '/docs/1', { id: '1' }));
    expect(calls()).toBe(5);
  });

  it('does not ask for an override group', async () => {
    const { url, calls } = await startService();
    const policy = await servicePolicy(url, () => 0);
    expect(await run(policy, ctxFor(admin, '/docs/9', { id: '9' }))).toBe('allowed');
    expect(calls()).toBe(0);
  });

  it('fails (a fault, not an allow) when the service errors, times out or is unreachable', async () => {
    const { url } = await startService();
    const policy = await servicePolicy(url, () => 0);
    await expect(policy.handle!(ctxFor(alice, '/docs/500', { id: '500' }))).rejects.toThrow(/answered 500/);
    const impatient = await servicePolicy(url, () => 0, { timeout: '200ms' });
    await expect(impatient.handle!(ctxFor(alice, '/docs/slow', { id: 'slow' }))).rejects.not.toBeInstanceOf(GatewayError);
    const unreachable = await servicePolicy('http://127.0.0.1:1/check', () => 0);
    await expect(unreachable.handle!(ctxFor(alice, '/docs/1', { id: '1' }))).rejects.toThrow();
  });
});

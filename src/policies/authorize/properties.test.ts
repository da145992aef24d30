import { describe, expect, it } from 'vitest';
import type { Principal } from '../../core/context.js';
import { HeaderList } from '../../core/header-list.js';
import { GatewayError } from '../../errors/index.js';
import { makeContext } from '../../../test/helpers/context.js';
import { compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { authorizePolicy } from './index.js';
import { firstWritten, parsePropertyPath, prototypeKey, removeProperties } from './properties.js';
import type { AuthorizeConfig } from './schema.js';

const user: Principal = { method: 'api-key', consumerId: 'c1', subject: 'c1', groups: ['user'] };
const admin: Principal = { method: 'api-key', consumerId: 'c2', subject: 'c2', groups: ['admin'] };

const config = {
  rules: [{ name: 'anyone' }],
  properties: {
    write: [{ paths: ['role', 'account.balance', '/items/*/price', 'meta.*.internal'], methods: ['POST', 'PUT', 'PATCH'], unlessGroups: ['admin'] }],
    read: [{ paths: ['ssn', 'items[].cost', '/owner/email'], unlessGroups: ['admin'] }],
  },
};

/** Runs the policy on a JSON body (as jsonBody would have parsed it); the denial's code and reason, or 'allowed'. */
async function write(principal: Principal, body: unknown, extra: object = {}, headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': '2' }): Promise<string> {
  const policy = compilePolicy(authorizePolicy, { ...config, ...extra });
  const ctx = makeContext({ method: 'POST', url: '/x', headers });
  ctx.principal = principal;
  if (headers['content-type'] === 'application/json') ctx.parsedBody = { value: body };
  try {
    await policy.handle!(ctx);
    return 'allowed';
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    expect(error.detail).toBeUndefined();
    return `${error.code}: ${error.reason}`;
  }
}

describe('authorize properties: mass assignment', () => {
  it('lets a body through that writes nothing forbidden', async () => {
    expect(await write(user, { name: 'a', account: { nickname: 'x' }, items: [{ qty: 1 }] })).toBe('allowed');
  });

  it('refuses a top-level and a nested forbidden property', async () => {
    expect(await write(user, { name: 'a', role: 'admin' })).toBe('GW_AUTHZ_DENIED: property role may not be written');
    expect(await write(user, { account: { balance: 1e9 } })).toBe('GW_AUTHZ_DENIED: property account.balance may not be written');
  });

  it('refuses a forbidden property inside any array element, and inside a batch body', async () => {
    expect(await write(user, { items: [{ qty: 1 }, { qty: 2, price: 0 }] })).toBe('GW_AUTHZ_DENIED: property /items/*/price may not be written');
    expect(await write(user, [{ name: 'a' }, { role: 'admin' }])).toBe('GW_AUTHZ_DENIED: property role may not be written');
    expect(await write(user, { meta: { a: { internal: true } } })).toContain('meta.*.internal');
  });

  it('refuses a property even when its value is null or false', async () => {
    expect(await write(user, { role: null })).toContain('property role');
    expect(await write(user, { account: { balance: false } })).toContain('account.balance');
  });

  it('refuses prototype pollution keys wherever they are', async () => {
    expect(await write(user, JSON.parse('{"a":{"__proto__":{"role":"admin"}}}'))).toBe('GW_AUTHZ_DENIED: body carries the prototype key __proto__');
    expect(await write(user, JSON.parse('[{"constructor":{"prototype":{"isAdmin":true}}}]'))).toContain('constructor.prototype');
    // Even for a role that may write everything: no upstream should ever merge these.
    expect(await write(admin, JSON.parse('{"__proto__":{}}'))).toContain('__proto__');
  });

  it('lets an override group write the property', async () => {
    expect(await write(admin, { role: 'admin', items: [{ price: 0 }] })).toBe('allowed');
  });

  it('answers 400 GW_BODY_PROPERTY_DENIED when configured so', async () => {
    const status400 = { properties: { ...config.properties, writeDeniedStatus: 400 } };
    expect(await write(user, { role: 'admin' }, status400)).toBe('GW_BODY_PROPERTY_DENIED: property role may not be written');
  });

  it('refuses a body it cannot check (not declared JSON) rather than forward it unchecked', async () => {
    expect(await write(user, undefined, {}, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '10' })).toBe(
      'GW_AUTHZ_DENIED: body is not JSON: its properties cannot be checked',
    );
    expect(await write(user, undefined, {}, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' })).toContain('cannot be checked');
  });

  it('does not look at bodies of methods the rule does not name', async () => {
    const policy = compilePolicy(authorizePolicy, config);
    const ctx = makeContext({ method: 'DELETE', url: '/x', headers: { 'content-type': 'text/plain', 'content-length': '5' } });
    ctx.principal = user;
    expect(policy.handle!(ctx)).toBeUndefined();
  });
});

describe('authorize properties: response filtering', () => {
  const upstreamBody = { id: 1, ssn: '123-45-6789', owner: { name: 'x', email: 'x@example.com' }, items: [{ sku: 'a', cost: 3 }, { sku: 'b', cost: 4 }] };

  async function respond(principal: Principal, contentType = 'application/json'): Promise<unknown> {
    const policy = compilePolicy(authorizePolicy, config);
    const ctx = makeContext({ url: '/x' });
    ctx.principal = principal;
    policy.handle!(ctx);
    const head = new HeaderList(['content-type', contentType]);
    const wanted = policy.wantsResponseBody!(ctx, head, 200);
    if (wanted === undefined) return 'untouched';
    expect(wanted.overflow).toBe('block');
    const out = await policy.onResponseBody!(ctx, Buffer.from(JSON.stringify(upstreamBody)), head, 200);
    return JSON.parse(out.toString('utf8'));
  }

  it('removes properties the role may not read, nested and in arrays', async () => {
    expect(await respond(user)).toEqual({ id: 1, owner: { name: 'x' }, items: [{ sku: 'a' }, { sku: 'b' }] });
  });

  it('leaves the body untouched for an override group, and for non-JSON bodies', async () => {
    expect(await respond(admin)).toBe('untouched');
    expect(await respond(user, 'text/plain')).toBe('untouched');
  });

  it('fails rather than pass a body declared JSON that does not parse', async () => {
    const policy = compilePolicy(authorizePolicy, config);
    const ctx = makeContext();
    ctx.principal = user;
    policy.handle!(ctx);
    expect(() => policy.onResponseBody!(ctx, Buffer.from('{"ssn": "1'), new HeaderList(), 200)).toThrow(SyntaxError);
  });
});

describe('authorize property paths', () => {
  it('parses dot paths, [] and JSON pointers with escapes alike', () => {
    expect(parsePropertyPath('a.b[].c').segments).toEqual(['a', 'b', 'c']);
    expect(parsePropertyPath('/a~1b/c~0d').segments).toEqual(['a/b', 'c~d']);
    expect(() => parsePropertyPath('a..b')).toThrow(/invalid property path/);
  });

  it('is refused at load with its location when a path is empty', () => {
    const parsed = validatePolicyConfig<AuthorizeConfig>(authorizePolicy, { properties: { read: [{ paths: ['ok', 'a.'] }] } });
    expect(authorizePolicy.check!(parsed)).toEqual([{ path: ['properties', 'read', 0, 'paths', 1], message: 'invalid property path "a."' }]);
  });

  it('walks a deeply nested body without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(50_000) + '{"role":1}' + ']'.repeat(50_000)) as unknown;
    expect(firstWritten(deep, [parsePropertyPath('role')])).toBe('role');
    expect(prototypeKey(deep)).toBeUndefined();
    expect(removeProperties(deep, [parsePropertyPath('role')])).toBe(1);
  });
});

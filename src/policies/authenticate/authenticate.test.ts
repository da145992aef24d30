import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { AuthResult, Authenticator } from '../../auth/authenticator.js';
import { authenticatorRegistry, type AuthenticatorFactory } from '../../auth/registry.js';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { validatePolicyConfig } from '../../../test/helpers/policy.js';
import { GatewayError } from '../../errors/index.js';
import { ManualClock, MemoryStateStore } from '../../state/memory.js';
import type { StateStore } from '../../state/types.js';
import { authenticatePolicy } from './index.js';
import { createAuthenticatePolicy } from './policy.js';
import type { AuthenticateConfig } from './schema.js';

/**
 * A scripted method for the combination logic under test: it answers from a header, so each test
 * states what every method says. The real methods (jwt, ...) have their own suites.
 */
const calls = { count: 0 };

function scripted(type: string, challenge: string, async = false): AuthenticatorFactory {
  return {
    type,
    schema: Type.Object({ tag: Type.String({ default: type }) }, { additionalProperties: false }),
    create: (config: { tag: string }): Authenticator => ({
      type,
      challenge,
      authenticate(ctx) {
        calls.count++;
        const said = ctx.header(`x-${type}`);
        // "bad" is refused; "bad:<id>" is refused naming credential <type>:<id>; anything else is a valid key id.
        const result: AuthResult =
          said === undefined
            ? { kind: 'not-applicable' }
            : said === 'bad'
              ? { kind: 'rejected', reason: `${config.tag} refused` }
              : said.startsWith('bad:')
                ? { kind: 'rejected', reason: `${config.tag} refused`, credentialId: `${type}:${said.slice(4)}` }
                : { kind: 'authenticated', principal: { method: type, subject: said, scopes: ['read'], claims: { keyId: said } } };
        return async ? Promise.resolve(result) : result;
      },
    }),
  };
}

const registry = authenticatorRegistry([scripted('alpha', 'Bearer realm="portcullis"'), scripted('beta', 'Signature', true)]);

function policy(raw: object) {
  return createAuthenticatePolicy(validatePolicyConfig<AuthenticateConfig>(authenticatePolicy, raw), makeDeps(), registry);
}

async function outcome(p: ReturnType<typeof policy>, headers: Record<string, string>, clientIp?: string) {
  const ctx = makeContext({ headers, ...(clientIp === undefined ? {} : { clientIp }) });
  try {
    await p.handle!(ctx);
    return { ctx, error: undefined };
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    return { ctx, error: error as GatewayError };
  }
}

const both = { methods: [{ type: 'alpha' }, { type: 'beta' }] };

describe('authenticate policy', () => {
  it('admits the first method that authenticates and passes the identity upstream', async () => {
    const { ctx, error } = await outcome(policy(both), { 'x-beta': 'svc-1' });
    expect(error).toBeUndefined();
    expect(ctx.principal).toMatchObject({ method: 'beta', subject: 'svc-1' });
    expect(ctx.upstreamHeaders).toMatchObject({ 'x-auth-subject': 'svc-1', 'x-auth-method': 'beta', 'x-auth-scopes': 'read', 'x-consumer-id': null });
  });

  it('answers 401 GW_AUTHN_REQUIRED listing every challenge when no credential is present', async () => {
    const { error } = await outcome(policy(both), {});
    expect(error!.code).toBe('GW_AUTHN_REQUIRED');
    expect(error!.status).toBe(401);
    expect(error!.headers!['www-authenticate']).toBe('Bearer realm="portcullis", Signature');
    expect(error!.detail).toBeUndefined();
  });

  it('refuses a wrong credential with 401 GW_AUTHN_INVALID and invalid_token, logging the precise reason', async () => {
    const { error } = await outcome(policy(both), { 'x-alpha': 'bad', 'x-beta': 'svc-1' });
    expect(error!.code).toBe('GW_AUTHN_INVALID');
    expect(error!.headers!['www-authenticate']).toBe('Bearer realm="portcullis", error="invalid_token"');
    expect(error!.reason).toBe('alpha: alpha refused');
  });

  it('never lets a wrong credential fall back to anonymous', async () => {
    const p = policy({ ...both, anonymous: { consumerId: 'anon' } });
    expect((await outcome(p, { 'x-beta': 'bad' })).error!.code).toBe('GW_AUTHN_INVALID');
    const { ctx, error } = await outcome(p, {});
    expect(error).toBeUndefined();
    expect(ctx.principal).toEqual({ method: 'anonymous', consumerId: 'anon' });
  });

  it('with combine: all, requires every method', async () => {
    const p = policy({ ...both, combine: 'all' });
    expect((await outcome(p, { 'x-alpha': 'u' })).error!.code).toBe('GW_AUTHN_REQUIRED');
    expect((await outcome(p, { 'x-alpha': 'u', 'x-beta': 'bad' })).error!.code).toBe('GW_AUTHN_INVALID');
    const { ctx, error } = await outcome(p, { 'x-alpha': 'u', 'x-beta': 'v' });
    expect(error).toBeUndefined();
    expect(ctx.principal!.subject).toBe('u');
  });

  it('strips client copies of identity headers even when the request is refused', async () => {
    const { ctx } = await outcome(policy(both), { 'x-auth-subject': 'admin', 'x-consumer-id': 'root' });
    expect(ctx.upstreamHeaders).toMatchObject({ 'x-auth-subject': null, 'x-consumer-id': null, 'x-auth-scopes': null, 'x-auth-method': null });
  });

  it('refuses unknown methods and invalid method config at load, naming the method', () => {
    expect(() => policy({ methods: [{ type: 'kerberos' }] })).toThrow(/methods\[0\]\.type: unknown authentication method "kerberos"/);
    expect(() => policy({ methods: [{ type: 'alpha', config: { nope: 1 } }] })).toThrow(/methods\[0\]\.config: unknown field "nope"/);
  });
});

describe('authenticate policy: brute-force lockout', () => {
  function setup(lockout: object = {}, state?: StateStore) {
    const clock = new ManualClock();
    const store = state ?? new MemoryStateStore({ clock });
    const deps = makeDeps({ now: () => clock.now(), state: () => Promise.resolve(store) });
    const p = createAuthenticatePolicy(validatePolicyConfig<AuthenticateConfig>(authenticatePolicy, { ...both, lockout }), deps, registry);
    const faults = async () => (await deps.metrics.registry.getSingleMetricAsString('portcullis_policy_faults_total')).match(/policy="authenticate"} (\d+)/)?.[1];
    return { clock, p, faults };
  }
  const codes = async (p: ReturnType<typeof policy>, n: number, headers: (i: number) => Record<string, string>, ip = '203.0.113.9') => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await outcome(p, headers(i), ip)).error?.code ?? 'ok');
    return out;
  };

  it('defaults: on, 10 per IP and 5 per credential per minute, 30 s doubling to 1 h, 429', () => {
    const config = validatePolicyConfig<AuthenticateConfig>(authenticatePolicy, both);
    expect(config.lockout).toEqual({
      enabled: true,
      perIp: { threshold: 10, windowSeconds: 60 },
      perCredential: { threshold: 5, windowSeconds: 60 },
      countMissing: false,
      baseSeconds: 30,
      maxSeconds: 3600,
      decaySeconds: 86400,
      lockoutStatus: 429,
    });
  });

  it('answers 401 for N-1 failures and locks the IP at the Nth (429, Retry-After), refusing even a valid credential without calling any method', async () => {
    const { p } = setup();
    expect(await codes(p, 9, () => ({ 'x-alpha': 'bad' }))).toEqual(Array(9).fill('GW_AUTHN_INVALID'));
    const { error } = await outcome(p, { 'x-alpha': 'bad' }, '203.0.113.9');
    expect(error!.code).toBe('GW_AUTHN_LOCKED');
    expect(error!.status).toBe(429);
    expect(error!.headers).toEqual({ 'retry-after': '30' });
    expect(error!.detail).toBeUndefined();
    expect(error!.reason).toBe('lockout: client IP 203.0.113.9 locked out for 30s (level 1)');
    const before = calls.count;
    const valid = await outcome(p, { 'x-alpha': 'svc-1' }, '203.0.113.9');
    expect(valid.error!.code).toBe('GW_AUTHN_LOCKED');
    expect(valid.ctx.principal).toBeUndefined();
    expect(calls.count).toBe(before);
    // Another IP is unaffected.
    expect((await outcome(p, { 'x-alpha': 'svc-1' }, '198.51.100.1')).error).toBeUndefined();
  });

  it('expires with the clock and doubles the next lockout', async () => {
    const { clock, p } = setup();
    await codes(p, 10, () => ({ 'x-alpha': 'bad' }));
    clock.advance(20_000);
    expect((await outcome(p, { 'x-alpha': 'svc-1' }, '203.0.113.9')).error!.headers).toEqual({ 'retry-after': '10' });
    clock.advance(10_000);
    expect((await outcome(p, { 'x-alpha': 'svc-1' }, '203.0.113.9')).error).toBeUndefined();
    const again = await codes(p, 10, () => ({ 'x-alpha': 'bad' }));
    expect(again.slice(0, 9)).toEqual(Array(9).fill('GW_AUTHN_INVALID'));
    const { error } = await outcome(p, { 'x-alpha': 'svc-1' }, '203.0.113.9');
    expect(error!.headers).toEqual({ 'retry-after': '60' });
    expect(error!.reason).toMatch(/level 2/);
    clock.advance(60_000);
    expect((await outcome(p, { 'x-alpha': 'svc-1' }, '203.0.113.9')).error).toBeUndefined();
  });

  it('caps the back-off at maxSeconds', async () => {
    const { clock, p } = setup({ perIp: { threshold: 1 }, baseSeconds: 30, maxSeconds: 50 });
    await outcome(p, { 'x-alpha': 'bad' }, '203.0.113.9');
    clock.advance(30_000);
    expect((await outcome(p, { 'x-alpha': 'bad' }, '203.0.113.9')).error!.headers).toEqual({ 'retry-after': '50' });
  });

  it('locks a credential attacked from different IPs, whatever IP then presents it', async () => {
    const { p } = setup();
    const out = await codes(p, 5, () => ({ 'x-alpha': 'bad:k1' }));
    expect(out).toEqual([...Array(4).fill('GW_AUTHN_INVALID'), 'GW_AUTHN_LOCKED']);
    for (let i = 0; i < 4; i++) expect((await outcome(p, { 'x-beta': 'bad:k2' }, `192.0.2.${i}`)).error!.code).toBe('GW_AUTHN_INVALID');
    const { error } = await outcome(p, { 'x-beta': 'bad:k2' }, '192.0.2.77');
    expect(error!.code).toBe('GW_AUTHN_LOCKED');
    expect(error!.reason).toBe('lockout: credential beta:k2 locked out for 30s (level 1)');
    // The right secret for the locked credential is refused too, from a fresh IP; other credentials are not.
    expect((await outcome(p, { 'x-beta': 'k2' }, '192.0.2.200')).error!.code).toBe('GW_AUTHN_LOCKED');
    expect((await outcome(p, { 'x-beta': 'k3' }, '192.0.2.200')).error).toBeUndefined();
  });

  it('a success resets the credential counter but not the client IP counter', async () => {
    const { p } = setup();
    expect(await codes(p, 4, () => ({ 'x-alpha': 'bad:k1' }))).toEqual(Array(4).fill('GW_AUTHN_INVALID'));
    expect((await outcome(p, { 'x-alpha': 'k1' }, '203.0.113.9')).error).toBeUndefined();
    // 4 more for k1 would have locked it without the reset; the IP is now at 8 failures.
    expect(await codes(p, 4, () => ({ 'x-alpha': 'bad:k1' }))).toEqual(Array(4).fill('GW_AUTHN_INVALID'));
    expect((await outcome(p, { 'x-alpha': 'k1' }, '203.0.113.9')).error).toBeUndefined();
    expect(await codes(p, 2, (i) => ({ 'x-alpha': `bad:other${i}` }))).toEqual(['GW_AUTHN_INVALID', 'GW_AUTHN_LOCKED']);
  });

  it('a success resets only failures this process counted; another process\'s expire with their window', async () => {
    const clock = new ManualClock();
    const shared = new MemoryStateStore({ clock });
    const make = () => {
      const deps = makeDeps({ now: () => clock.now(), state: () => Promise.resolve(shared) });
      return createAuthenticatePolicy(validatePolicyConfig<AuthenticateConfig>(authenticatePolicy, both), deps, registry);
    };
    const [a, b] = [make(), make()];
    // Four failures for k1 counted by process a, from four IPs (no IP gets near its own limit).
    for (let i = 0; i < 4; i++) expect((await outcome(a, { 'x-alpha': 'bad:k1' }, `192.0.2.${i}`)).error!.code).toBe('GW_AUTHN_INVALID');
    // A success on process b does not reset them (b counted none): the fifth failure locks k1.
    expect((await outcome(b, { 'x-alpha': 'k1' }, '198.51.100.1')).error).toBeUndefined();
    expect((await outcome(b, { 'x-alpha': 'bad:k1' }, '192.0.2.9')).error!.code).toBe('GW_AUTHN_LOCKED');
    // After the lock and the window, a's failures followed by a success on a do reset.
    clock.advance(61_000);
    for (let i = 0; i < 4; i++) await outcome(a, { 'x-alpha': 'bad:k1' }, `192.0.2.${20 + i}`);
    expect((await outcome(a, { 'x-alpha': 'k1' }, '198.51.100.1')).error).toBeUndefined();
    expect((await outcome(a, { 'x-alpha': 'bad:k1' }, '192.0.2.30')).error!.code).toBe('GW_AUTHN_INVALID');
  });

  it('counts missing credentials only when countMissing is on', async () => {
    expect(await codes(setup().p, 12, () => ({}))).toEqual(Array(12).fill('GW_AUTHN_REQUIRED'));
    const out = await codes(setup({ countMissing: true, perIp: { threshold: 3 } }).p, 3, () => ({}));
    expect(out).toEqual(['GW_AUTHN_REQUIRED', 'GW_AUTHN_REQUIRED', 'GW_AUTHN_LOCKED']);
  });

  it('answers 401 GW_AUTHN_INVALID instead with lockoutStatus: 401', async () => {
    const { p } = setup({ lockoutStatus: 401, perIp: { threshold: 2 } });
    await outcome(p, { 'x-alpha': 'bad' }, '203.0.113.9');
    const { error } = await outcome(p, { 'x-alpha': 'svc-1' }, '203.0.113.9');
    // The valid credential above was not a failure, so the IP is not locked yet.
    expect(error).toBeUndefined();
    const locked = await outcome(p, { 'x-alpha': 'bad' }, '203.0.113.9');
    expect(locked.error!.code).toBe('GW_AUTHN_INVALID');
    expect(locked.error!.status).toBe(401);
    expect(locked.error!.headers).toEqual({ 'www-authenticate': 'Bearer realm="portcullis", Signature' });
    expect(locked.error!.reason).toMatch(/^lockout: client IP 203\.0\.113\.9/);
  });

  it('fails open for the lockout only when the StateStore throws, counting the fault', async () => {
    const broken = new MemoryStateStore();
    await broken.close();
    const { p, faults } = setup({ perIp: { threshold: 1 }, perCredential: { threshold: 1 } }, broken);
    expect(await codes(p, 5, () => ({ 'x-alpha': 'bad:k1' }))).toEqual(Array(5).fill('GW_AUTHN_INVALID'));
    const { ctx, error } = await outcome(p, { 'x-alpha': 'k1' }, '203.0.113.9');
    expect(error).toBeUndefined();
    expect(ctx.principal!.subject).toBe('k1');
    expect(Number(await faults())).toBeGreaterThan(0);
  });

  it('can be switched off', async () => {
    const { p } = setup({ enabled: false, perIp: { threshold: 1 } });
    expect(await codes(p, 3, () => ({ 'x-alpha': 'bad' }))).toEqual(Array(3).fill('GW_AUTHN_INVALID'));
  });
});

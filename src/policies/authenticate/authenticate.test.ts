import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { AuthResult, Authenticator } from '../../auth/authenticator.js';
import { authenticatorRegistry, type AuthenticatorFactory } from '../../auth/registry.js';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { validatePolicyConfig } from '../../../test/helpers/policy.js';
import { GatewayError } from '../../errors/index.js';
import { authenticatePolicy } from './index.js';
import { createAuthenticatePolicy } from './policy.js';
import type { AuthenticateConfig } from './schema.js';

/**
 * A scripted method for the combination logic under test: it answers from a header, so each test
 * states what every method says. The real methods (jwt, ...) have their own suites.
 */
function scripted(type: string, challenge: string, async = false): AuthenticatorFactory {
  return {
    type,
    schema: Type.Object({ tag: Type.String({ default: type }) }, { additionalProperties: false }),
    create: (config: { tag: string }): Authenticator => ({
      type,
      challenge,
      authenticate(ctx) {
        const said = ctx.header(`x-${type}`);
        const result: AuthResult =
          said === undefined
            ? { kind: 'not-applicable' }
            : said === 'bad'
              ? { kind: 'rejected', reason: `${config.tag} refused` }
              : { kind: 'authenticated', principal: { method: type, subject: said, scopes: ['read'] } };
        return async ? Promise.resolve(result) : result;
      },
    }),
  };
}

const registry = authenticatorRegistry([scripted('alpha', 'Bearer realm="portcullis"'), scripted('beta', 'Signature', true)]);

function policy(raw: object) {
  return createAuthenticatePolicy(validatePolicyConfig<AuthenticateConfig>(authenticatePolicy, raw), makeDeps(), registry);
}

async function outcome(p: ReturnType<typeof policy>, headers: Record<string, string>) {
  const ctx = makeContext({ headers });
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

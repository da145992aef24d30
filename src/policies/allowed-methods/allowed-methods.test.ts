import { describe, it, expect } from 'vitest';
import { makeContext, type ContextOptions } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { allowedMethodsPolicy } from './index.js';

const run = (config: object, options: ContextOptions) => compilePolicy(allowedMethodsPolicy, config).handle!(makeContext(options));
const denial = (config: object, options: ContextOptions) => catchGatewayError(() => run(config, options));
const preflight = { origin: 'https://app.example.com', 'access-control-request-method': 'PUT' };

describe('allowed-methods schema', () => {
  it('requires a non-empty methods list', () => {
    expect(() => validatePolicyConfig(allowedMethodsPolicy, {})).toThrow(/missing required field "methods"/);
    expect(() => validatePolicyConfig(allowedMethodsPolicy, { methods: [] })).toThrow(/methods/);
  });

  it('refuses lower-case and unknown methods', () => {
    expect(() => validatePolicyConfig(allowedMethodsPolicy, { methods: ['get'] })).toThrow(/methods\/0/);
    expect(() => validatePolicyConfig(allowedMethodsPolicy, { methods: ['PROPFIND'] })).toThrow(/methods\/0/);
  });

  it('defaults implicitHead and allowPreflight to true', () => {
    expect(validatePolicyConfig(allowedMethodsPolicy, { methods: ['GET'] })).toEqual({
      methods: ['GET'],
      implicitHead: true,
      allowPreflight: true,
    });
  });
});

describe('allowed-methods decisions', () => {
  it('returns 405 with an Allow header listing GET and HEAD', () => {
    const error = denial({ methods: ['GET'] }, { method: 'DELETE' });
    expect(error.code).toBe('GW_METHOD_NOT_ALLOWED');
    expect(error.status).toBe(405);
    expect(error.headers).toEqual({ allow: 'GET, HEAD' });
    expect(error.detail).toBe('This route accepts GET, HEAD.');
    expect(error.reason).toContain('"DELETE"');
  });

  it('lets a listed method through', () => {
    expect(run({ methods: ['GET', 'POST'] }, { method: 'POST' })).toBeUndefined();
  });

  it('lets HEAD through when GET is allowed', () => {
    expect(run({ methods: ['GET'] }, { method: 'HEAD' })).toBeUndefined();
  });

  it('refuses HEAD when GET is allowed but implicitHead is false, and leaves HEAD out of Allow', () => {
    const error = denial({ methods: ['GET', 'POST'], implicitHead: false }, { method: 'HEAD' });
    expect(error.code).toBe('GW_METHOD_NOT_ALLOWED');
    expect(error.headers).toEqual({ allow: 'GET, POST' });
  });

  it('does not add HEAD when GET is not allowed', () => {
    const error = denial({ methods: ['POST'] }, { method: 'HEAD' });
    expect(error.code).toBe('GW_METHOD_NOT_ALLOWED');
    expect(error.headers).toEqual({ allow: 'POST' });
  });

  it('compares methods case-sensitively, so "get" is not GET', () => {
    expect(denial({ methods: ['GET'] }, { method: 'get' }).code).toBe('GW_METHOD_NOT_ALLOWED');
  });

  it('gives each denial its own headers object', () => {
    const instance = compilePolicy(allowedMethodsPolicy, { methods: ['GET'] });
    const first = catchGatewayError(() => instance.handle!(makeContext({ method: 'PUT' })));
    const second = catchGatewayError(() => instance.handle!(makeContext({ method: 'PUT' })));
    expect(first.headers).not.toBe(second.headers);
  });
});

describe('allowed-methods and CORS preflights', () => {
  it('lets a CORS preflight through when OPTIONS is not listed', () => {
    expect(run({ methods: ['GET', 'PUT'] }, { method: 'OPTIONS', headers: preflight })).toBeUndefined();
  });

  it('refuses a plain OPTIONS without the preflight headers', () => {
    const error = denial({ methods: ['GET'] }, { method: 'OPTIONS', headers: { origin: 'https://app.example.com' } });
    expect(error.code).toBe('GW_METHOD_NOT_ALLOWED');
  });

  it('refuses a preflight when allowPreflight is false', () => {
    const error = denial({ methods: ['GET'], allowPreflight: false }, { method: 'OPTIONS', headers: preflight });
    expect(error.code).toBe('GW_METHOD_NOT_ALLOWED');
  });

  it('does not let other methods through by carrying preflight headers', () => {
    const error = denial({ methods: ['GET'] }, { method: 'DELETE', headers: preflight });
    expect(error.code).toBe('GW_METHOD_NOT_ALLOWED');
  });
});

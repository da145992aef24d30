import { describe, expect, it } from 'vitest';
import { makeContext } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { csrfPolicy } from './index.js';

const HOST = 'app.example.com';
const run = (config: object, method: string, headers: Record<string, string>) =>
  compilePolicy(csrfPolicy, config).handle!(makeContext({ method, headers: { host: HOST, ...headers }, protocol: 'https' }));
const denied = (config: object, method: string, headers: Record<string, string>) => catchGatewayError(() => run(config, method, headers));
const SESSION = { cookie: 'session=s3cr3t' };

describe('csrf schema', () => {
  it('refuses an allowed origin with a path, and unknown fields', () => {
    expect(() => validatePolicyConfig(csrfPolicy, { allowedOrigins: ['https://a.example/path'] })).toThrow(/allowedOrigins/);
    expect(() => validatePolicyConfig(csrfPolicy, { origins: [] })).toThrow(/unknown field "origins"/);
  });
});

describe('csrf origin checks', () => {
  it('refuses a cross-site POST with cookies with 403 GW_CSRF_DENIED', () => {
    const error = denied({}, 'POST', { ...SESSION, origin: 'https://evil.example' });
    expect(error.code).toBe('GW_CSRF_DENIED');
    expect(error.status).toBe(403);
    expect(error.reason).toContain('Origin not allowed');
  });

  it('refuses Origin: null (sandboxed frames, data: URLs)', () => {
    expect(denied({}, 'DELETE', { ...SESSION, origin: 'null' }).code).toBe('GW_CSRF_DENIED');
  });

  it('lets a same-origin POST and an allowed origin through', () => {
    expect(run({}, 'POST', { ...SESSION, origin: `https://${HOST}` })).toBeUndefined();
    expect(run({ allowedOrigins: ['https://admin.example.com'] }, 'PUT', { ...SESSION, origin: 'https://ADMIN.example.com' })).toBeUndefined();
  });

  it('refuses an origin that only differs in scheme or port', () => {
    expect(denied({}, 'POST', { ...SESSION, origin: `http://${HOST}` }).code).toBe('GW_CSRF_DENIED');
    expect(denied({}, 'POST', { ...SESSION, origin: `https://${HOST}:8443` }).code).toBe('GW_CSRF_DENIED');
  });

  it('exempts safe methods even from another site', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) expect(run({}, method, { ...SESSION, origin: 'https://evil.example' })).toBeUndefined();
  });

  it('ignores requests without cookies, or without the configured authentication cookies', () => {
    expect(run({}, 'POST', { origin: 'https://evil.example' })).toBeUndefined();
    expect(run({ cookieNames: ['session'] }, 'POST', { cookie: 'theme=dark', origin: 'https://evil.example' })).toBeUndefined();
    expect(denied({ cookieNames: ['session'] }, 'POST', { cookie: 'theme=dark; session=x', origin: 'https://evil.example' }).code).toBe('GW_CSRF_DENIED');
  });

  it('uses Sec-Fetch-Site when there is no Origin', () => {
    expect(run({}, 'POST', { ...SESSION, 'sec-fetch-site': 'same-origin' })).toBeUndefined();
    expect(denied({}, 'POST', { ...SESSION, 'sec-fetch-site': 'cross-site' }).code).toBe('GW_CSRF_DENIED');
    expect(denied({}, 'POST', { ...SESSION, 'sec-fetch-site': 'same-site' }).code).toBe('GW_CSRF_DENIED');
    expect(run({ allowSameSite: true }, 'POST', { ...SESSION, 'sec-fetch-site': 'same-site' })).toBeUndefined();
  });

  it('falls back to the Referer origin, then refuses a request with none of them unless missingOrigin is allow', () => {
    expect(run({}, 'POST', { ...SESSION, referer: `https://${HOST}/form?x=1` })).toBeUndefined();
    expect(denied({}, 'POST', { ...SESSION, referer: 'https://evil.example/x' }).code).toBe('GW_CSRF_DENIED');
    expect(denied({}, 'POST', SESSION).reason).toContain('no Origin, Sec-Fetch-Site or Referer');
    expect(run({ missingOrigin: 'allow' }, 'POST', SESSION)).toBeUndefined();
  });
});

describe('csrf double-submit token', () => {
  const config = { doubleSubmit: {} };
  const same = { origin: `https://${HOST}` };

  it('accepts a header equal to the token cookie', () => {
    expect(run(config, 'POST', { ...same, cookie: 'session=s; csrf-token=abc123', 'x-csrf-token': 'abc123' })).toBeUndefined();
  });

  it('refuses a token mismatch, a missing header and a missing cookie', () => {
    expect(denied(config, 'POST', { ...same, cookie: 'session=s; csrf-token=abc123', 'x-csrf-token': 'abc124' }).code).toBe('GW_CSRF_DENIED');
    expect(denied(config, 'POST', { ...same, cookie: 'session=s; csrf-token=abc123' }).code).toBe('GW_CSRF_DENIED');
    expect(denied(config, 'POST', { ...same, cookie: 'session=s', 'x-csrf-token': 'abc123' }).code).toBe('GW_CSRF_DENIED');
    expect(denied(config, 'POST', { ...same, cookie: 'session=s; csrf-token=', 'x-csrf-token': '' }).code).toBe('GW_CSRF_DENIED');
  });

  it('still checks the origin when the tokens match', () => {
    expect(denied(config, 'POST', { origin: 'https://evil.example', cookie: 'csrf-token=t', 'x-csrf-token': 't' }).code).toBe('GW_CSRF_DENIED');
  });
});

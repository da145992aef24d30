import { describe, it, expect } from 'vitest';
import { HeaderList } from '../../core/header-list.js';
import type { RequestContext } from '../../core/context.js';
import type { PolicyInstance } from '../../core/policy.js';
import { makeContext } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { corsPolicy } from './index.js';

const APP = 'https://app.example.com';
const cors = (config: object) => compilePolicy(corsPolicy, config);

function preflight(policy: PolicyInstance, origin: string, method = 'PUT', requestHeaders?: string): RequestContext {
  const headers: Record<string, string> = { origin, 'access-control-request-method': method };
  if (requestHeaders !== undefined) headers['access-control-request-headers'] = requestHeaders;
  const ctx = makeContext({ method: 'OPTIONS', headers });
  policy.handle!(ctx);
  return ctx;
}

/** An actual request with `origin` whose upstream answered with `upstream` headers. */
function actual(policy: PolicyInstance, origin: string | undefined, upstream: string[] = []): HeaderList {
  const ctx = makeContext({ method: 'GET', headers: origin === undefined ? {} : { origin } });
  expect(policy.handle!(ctx)).toBeUndefined();
  const head = new HeaderList([...upstream]);
  policy.onResponse!(ctx, head, 200);
  return head;
}

const allowed = (policy: PolicyInstance, origin: string) => actual(policy, origin).get('access-control-allow-origin') !== undefined;

describe('cors schema and create', () => {
  it('fills every default', () => {
    expect(validatePolicyConfig(corsPolicy, {})).toEqual({
      origins: [],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowHeaders: ['accept', 'accept-language', 'content-language', 'content-type', 'authorization', 'x-requested-with'],
      exposeHeaders: [],
      credentials: false,
      maxAge: 600,
      preflightStatus: 204,
    });
  });

  it('refuses the wildcard origin with credentials at create', () => {
    expect(() => cors({ origins: ['*'], credentials: true })).toThrow(/origins\[0\] "\*".*credentials/);
  });

  it('refuses origins with a path, a trailing slash, userinfo or no scheme', () => {
    for (const bad of ['https://app.example.com/', 'https://app.example.com/x', 'https://u@app.example.com', 'app.example.com']) {
      expect(() => cors({ origins: [bad] }), bad).toThrow(/is not an origin/);
    }
  });

  it('refuses wildcards that are not a whole leftmost label or cover a top-level domain', () => {
    expect(() => cors({ origins: ['https://app-*.example.com'] })).toThrow(/leftmost label/);
    expect(() => cors({ origins: ['https://*.*.example.com'] })).toThrow(/leftmost label/);
    expect(() => cors({ origins: ['https://*.com'] })).toThrow(/two labels/);
    expect(() => cors({ origins: ['chrome-extension://*.abc.def'] })).toThrow(/http and https/);
  });

  it('refuses a "*" allowHeaders entry and a "*" exposeHeaders entry with credentials', () => {
    expect(() => cors({ allowHeaders: ['*'] })).toThrow(/allowHeaders/);
    expect(() => cors({ origins: [APP], credentials: true, exposeHeaders: ['*'] })).toThrow(/exposeHeaders/);
  });
});

describe('cors preflight', () => {
  it('answers an allowed preflight locally with 204 and the CORS headers', () => {
    const ctx = preflight(cors({ origins: [APP] }), APP, 'PUT', 'content-type,authorization');
    expect(ctx.reply?.status).toBe(204);
    expect(ctx.reply?.headers).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
      'access-control-allow-headers': 'accept, accept-language, content-language, content-type, authorization, x-requested-with',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    });
  });

  it('echoes the origin and adds Allow-Credentials when credentials are on', () => {
    const ctx = preflight(cors({ origins: [APP], credentials: true, preflightStatus: 200 }), APP);
    expect(ctx.reply?.status).toBe(200);
    expect(ctx.reply?.headers['access-control-allow-origin']).toBe(APP);
    expect(ctx.reply?.headers['access-control-allow-credentials']).toBe('true');
  });

  it('leaves the preflight answer untouched in onResponse', () => {
    const policy = cors({ origins: [APP] });
    const ctx = preflight(policy, APP);
    const head = new HeaderList(Object.entries(ctx.reply!.headers).flat());
    policy.onResponse!(ctx, head, 204);
    expect(head.get('access-control-allow-methods')).toBe('GET, HEAD, POST, PUT, PATCH, DELETE');
    expect(head.getAll('vary')).toEqual(['Origin, Access-Control-Request-Method, Access-Control-Request-Headers']);
  });

  it('returns 403 GW_CORS_DENIED for a preflight from a disallowed origin', () => {
    const error = catchGatewayError(() => preflight(cors({ origins: [APP] }), 'https://evil.example.net'));
    expect(error.code).toBe('GW_CORS_DENIED');
    expect(error.status).toBe(403);
    expect(error.reason).toContain('"https://evil.example.net"');
  });

  it('returns 403 GW_CORS_DENIED for a preflight asking a disallowed method', () => {
    const error = catchGatewayError(() => preflight(cors({ origins: [APP], methods: ['GET', 'POST'] }), APP, 'DELETE'));
    expect(error.code).toBe('GW_CORS_DENIED');
    expect(error.reason).toContain('method "DELETE"');
  });

  it('returns 403 GW_CORS_DENIED for a preflight asking a disallowed header', () => {
    const error = catchGatewayError(() => preflight(cors({ origins: [APP] }), APP, 'POST', 'content-type, x-admin-override'));
    expect(error.code).toBe('GW_CORS_DENIED');
    expect(error.reason).toContain('header "x-admin-override"');
  });

  it('compares requested header names case-insensitively', () => {
    expect(preflight(cors({ origins: [APP] }), APP, 'POST', 'Content-Type, AUTHORIZATION').reply?.status).toBe(204);
  });

  it('denies a preflight from the null origin unless it is listed', () => {
    expect(catchGatewayError(() => preflight(cors({ origins: ['*'] }), 'null')).code).toBe('GW_CORS_DENIED');
    expect(preflight(cors({ origins: ['null'] }), 'null').reply?.headers['access-control-allow-origin']).toBe('null');
  });

  it('treats OPTIONS without Access-Control-Request-Method as an ordinary request', () => {
    const ctx = makeContext({ method: 'OPTIONS', headers: { origin: 'https://evil.example.net' } });
    cors({ origins: [APP] }).handle!(ctx);
    expect(ctx.reply).toBeUndefined();
  });
});

describe('cors origin matching', () => {
  const policy = cors({ origins: ['https://*.example.com', 'https://partner.example.org:8443', 'HTTPS://Upper.Example.NET'] });

  it('admits one subdomain label under a wildcard', () => {
    expect(allowed(policy, 'https://app.example.com')).toBe(true);
    expect(allowed(policy, 'https://xn--bcher-kva.example.com')).toBe(true);
  });

  it('refuses look-alike origins for https://*.example.com', () => {
    for (const origin of [
      'https://evil-example.com',
      'https://example.com.evil.net',
      'https://app.example.com.evil.net',
      'https://evil.net/.example.com',
      'https://appxexample.com',
      'https://example.com',
      'https://a.b.example.com',
      'http://app.example.com',
      'https://app.example.com:8443',
      'https://app.example.com, https://evil.net',
      'https://-bad.example.com',
    ]) {
      expect(allowed(policy, origin), origin).toBe(false);
    }
  });

  it('matches exact origins including a non-default port and normalises case in config', () => {
    expect(allowed(policy, 'https://partner.example.org:8443')).toBe(true);
    expect(allowed(policy, 'https://partner.example.org')).toBe(false);
    expect(allowed(policy, 'https://upper.example.net')).toBe(true);
  });

  it('matches a configured default port against the origin browsers send without it', () => {
    expect(allowed(cors({ origins: ['https://app.example.com:443'] }), APP)).toBe(true);
  });
});

describe('cors actual requests', () => {
  it('adds Allow-Origin, Allow-Credentials and Expose-Headers for an allowed origin', () => {
    const head = actual(cors({ origins: [APP], credentials: true, exposeHeaders: ['X-Request-Id', 'ETag'] }), APP);
    expect(head.get('access-control-allow-origin')).toBe(APP);
    expect(head.get('access-control-allow-credentials')).toBe('true');
    expect(head.get('access-control-expose-headers')).toBe('x-request-id, etag');
    expect(head.get('vary')).toBe('Origin');
  });

  it('sends "*" for any origin when origins is ["*"] without credentials', () => {
    const head = actual(cors({ origins: ['*'] }), 'https://anyone.example');
    expect(head.get('access-control-allow-origin')).toBe('*');
    expect(head.has('access-control-allow-credentials')).toBe(false);
  });

  it('strips upstream CORS headers for a foreign origin', () => {
    const upstream = ['access-control-allow-origin', '*', 'access-control-allow-credentials', 'true', 'content-type', 'application/json'];
    const head = actual(cors({ origins: [APP] }), 'https://evil.example.net', upstream);
    expect(head.has('access-control-allow-origin')).toBe(false);
    expect(head.has('access-control-allow-credentials')).toBe(false);
    expect(head.get('content-type')).toBe('application/json');
  });

  it('strips upstream CORS headers when no Origin was sent, and still adds Vary: Origin', () => {
    const head = actual(cors({ origins: [APP] }), undefined, ['access-control-allow-origin', 'https://evil.example.net']);
    expect(head.has('access-control-allow-origin')).toBe(false);
    expect(head.get('vary')).toBe('Origin');
  });

  it('replaces an upstream Allow-Credentials when credentials are off', () => {
    const head = actual(cors({ origins: [APP] }), APP, ['access-control-allow-origin', '*', 'access-control-allow-credentials', 'true']);
    expect(head.getAll('access-control-allow-origin')).toEqual([APP]);
    expect(head.has('access-control-allow-credentials')).toBe(false);
  });

  it('appends to an existing Vary instead of replacing it', () => {
    const head = actual(cors({ origins: [APP] }), APP, ['vary', 'Accept-Encoding']);
    expect(head.getAll('vary')).toEqual(['Accept-Encoding', 'Origin']);
  });

  it('does not repeat Origin or add it next to Vary: *', () => {
    expect(actual(cors({ origins: [APP] }), APP, ['vary', 'accept, ORIGIN']).getAll('vary')).toEqual(['accept, ORIGIN']);
    expect(actual(cors({ origins: [APP] }), APP, ['vary', '*']).getAll('vary')).toEqual(['*']);
  });

  it('never answers a null origin, even with origins ["*"]', () => {
    const head = actual(cors({ origins: ['*'] }), 'null', ['access-control-allow-origin', 'null']);
    expect(head.has('access-control-allow-origin')).toBe(false);
  });
});

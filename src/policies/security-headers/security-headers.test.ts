import { describe, it, expect } from 'vitest';
import { HeaderList } from '../../core/header-list.js';
import { makeContext } from '../../../test/helpers/context.js';
import { compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { securityHeadersPolicy } from './index.js';

function respond(config: object, upstream: string[] = [], protocol: 'http' | 'https' = 'https', status = 200): HeaderList {
  const head = new HeaderList([...upstream]);
  compilePolicy(securityHeadersPolicy, config).onResponse!(makeContext({ protocol }), head, status);
  return head;
}

describe('security-headers schema', () => {
  it('fills every default', () => {
    expect(validatePolicyConfig(securityHeadersPolicy, {})).toEqual({
      override: false,
      hsts: { enabled: true, maxAge: 31_536_000, includeSubDomains: true, preload: false, alwaysSend: false },
      noSniff: true,
      frameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
      contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
      permissionsPolicy: null,
      crossOriginResourcePolicy: 'same-origin',
      noStoreByDefault: false,
      removeHeaders: ['server', 'x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version'],
    });
  });

  it('refuses header values with CR or LF (response splitting)', () => {
    expect(() => validatePolicyConfig(securityHeadersPolicy, { contentSecurityPolicy: "default-src 'none'\r\nSet-Cookie: a=b" })).toThrow(
      /contentSecurityPolicy/,
    );
  });

  it('refuses an unknown X-Frame-Options value', () => {
    expect(() => validatePolicyConfig(securityHeadersPolicy, { frameOptions: 'ALLOW-FROM https://a.example' })).toThrow(/frameOptions/);
  });

  it('refuses preload without a year of max-age or includeSubDomains at create', () => {
    expect(() => compilePolicy(securityHeadersPolicy, { hsts: { preload: true, maxAge: 600 } })).toThrow(/hsts.preload/);
    expect(() => compilePolicy(securityHeadersPolicy, { hsts: { preload: true, includeSubDomains: false } })).toThrow(/hsts.preload/);
  });
});

describe('security-headers defaults', () => {
  it('adds the API defaults to an HTTPS response', () => {
    const head = respond({});
    expect(head.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(head.get('x-content-type-options')).toBe('nosniff');
    expect(head.get('x-frame-options')).toBe('DENY');
    expect(head.get('referrer-policy')).toBe('no-referrer');
    expect(head.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(head.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(head.has('permissions-policy')).toBe(false);
    expect(head.has('cache-control')).toBe(false);
  });

  it('adds them to error responses too', () => {
    const head = respond({}, ['content-type', 'application/problem+json'], 'https', 403);
    expect(head.get('x-content-type-options')).toBe('nosniff');
  });

  it('does not send HSTS over plain HTTP', () => {
    const head = respond({}, [], 'http');
    expect(head.has('strict-transport-security')).toBe(false);
    expect(head.get('x-content-type-options')).toBe('nosniff');
  });

  it('sends HSTS over plain HTTP when hsts.alwaysSend is set', () => {
    expect(respond({ hsts: { alwaysSend: true } }, [], 'http').get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it('writes preload and a custom max-age', () => {
    const head = respond({ hsts: { maxAge: 63_072_000, preload: true } });
    expect(head.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains; preload');
  });

  it('sends no HSTS when hsts.enabled is false', () => {
    expect(respond({ hsts: { enabled: false } }).has('strict-transport-security')).toBe(false);
  });
});

describe('security-headers upstream values', () => {
  it('keeps headers the upstream set when override is false', () => {
    const head = respond({}, ['x-frame-options', 'SAMEORIGIN', 'content-security-policy', "default-src 'self'"]);
    expect(head.getAll('x-frame-options')).toEqual(['SAMEORIGIN']);
    expect(head.getAll('content-security-policy')).toEqual(["default-src 'self'"]);
  });

  it('replaces headers the upstream set when override is true', () => {
    const head = respond({ override: true }, ['x-frame-options', 'ALLOWALL', 'strict-transport-security', 'max-age=0']);
    expect(head.getAll('x-frame-options')).toEqual(['DENY']);
    expect(head.getAll('strict-transport-security')).toEqual(['max-age=31536000; includeSubDomains']);
  });
});

describe('security-headers fingerprint removal', () => {
  it('removes Server and X-Powered-By sent by the upstream', () => {
    const head = respond({}, ['server', 'Apache/2.4.1', 'x-powered-by', 'PHP/8.1', 'x-aspnet-version', '4.0', 'x-aspnetmvc-version', '5.2']);
    expect(head.has('server')).toBe(false);
    expect(head.has('x-powered-by')).toBe(false);
    expect(head.has('x-aspnet-version')).toBe(false);
    expect(head.has('x-aspnetmvc-version')).toBe(false);
  });

  it('removes every repeat of a listed header', () => {
    expect(respond({}, ['server', 'a', 'server', 'b']).has('server')).toBe(false);
  });

  it('removes configured headers written in any case, the list replacing the default one', () => {
    const head = respond({ removeHeaders: ['X-Backend-Host'] }, ['x-backend-host', 'db-1.internal', 'server', 'nginx']);
    expect(head.has('x-backend-host')).toBe(false);
    expect(head.get('server')).toBe('nginx');
  });
});

describe('security-headers switches', () => {
  it('sends nothing for headers turned off', () => {
    const head = respond({
      noSniff: false,
      frameOptions: 'off',
      referrerPolicy: 'off',
      contentSecurityPolicy: null,
      crossOriginResourcePolicy: 'off',
    });
    for (const name of ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'content-security-policy', 'cross-origin-resource-policy']) {
      expect(head.has(name)).toBe(false);
    }
  });

  it('treats "off" as no Content-Security-Policy', () => {
    expect(respond({ contentSecurityPolicy: 'off' }).has('content-security-policy')).toBe(false);
  });

  it('sends Permissions-Policy when configured', () => {
    expect(respond({ permissionsPolicy: 'camera=(), geolocation=()' }).get('permissions-policy')).toBe('camera=(), geolocation=()');
  });

  it('adds Cache-Control: no-store only when the upstream sent none and noStoreByDefault is set', () => {
    expect(respond({ noStoreByDefault: true }).get('cache-control')).toBe('no-store');
    expect(respond({ noStoreByDefault: true }, ['cache-control', 'public, max-age=60']).getAll('cache-control')).toEqual(['public, max-age=60']);
    expect(respond({ noStoreByDefault: true, override: true }, ['cache-control', 'max-age=60']).getAll('cache-control')).toEqual(['max-age=60']);
  });
});

import { describe, it, expect } from 'vitest';
import { makeContext, type ContextOptions } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { requestSizeLimitPolicy } from './index.js';

function run(config: object, options: ContextOptions) {
  const ctx = makeContext(options);
  compilePolicy(requestSizeLimitPolicy, config).handle!(ctx);
  return ctx;
}
const denial = (config: object, options: ContextOptions) => catchGatewayError(() => run(config, options));

describe('request-size-limit schema', () => {
  it('defaults to a 1mb body and an 8kb target with no header limit', () => {
    expect(validatePolicyConfig(requestSizeLimitPolicy, {})).toEqual({ maxBodyBytes: '1mb', maxUriBytes: '8kb' });
  });

  it('refuses a size with an unknown unit', () => {
    expect(() => validatePolicyConfig(requestSizeLimitPolicy, { maxBodyBytes: '10tb' })).toThrow(/maxBodyBytes/);
  });

  it('refuses a negative size and unknown fields', () => {
    expect(() => validatePolicyConfig(requestSizeLimitPolicy, { maxHeaderBytes: -1 })).toThrow(/maxHeaderBytes/);
    expect(() => validatePolicyConfig(requestSizeLimitPolicy, { maxBody: 10 })).toThrow(/unknown field "maxBody"/);
  });
});

describe('request-size-limit body', () => {
  it('returns 413 GW_REQUEST_TOO_LARGE when Content-Length exceeds maxBodyBytes', () => {
    const error = denial({ maxBodyBytes: '1kb' }, { method: 'POST', headers: { 'content-length': '1025' } });
    expect(error.code).toBe('GW_REQUEST_TOO_LARGE');
    expect(error.status).toBe(413);
    expect(error.reason).toContain('Content-Length 1025 exceeds 1024');
    expect(error.detail).toBe('The request body may be at most 1024 bytes.');
  });

  it('accepts a Content-Length exactly at the limit and sets ctx.maxBodyBytes', () => {
    const ctx = run({ maxBodyBytes: 1024 }, { method: 'POST', headers: { 'content-length': '1024' } });
    expect(ctx.maxBodyBytes).toBe(1024);
  });

  it('refuses a Content-Length too large for a safe integer', () => {
    expect(denial({}, { method: 'POST', headers: { 'content-length': '99999999999999999999999' } }).code).toBe('GW_REQUEST_TOO_LARGE');
  });

  it('leaves a chunked body to the forwarder by setting ctx.maxBodyBytes from the default 1mb', () => {
    const ctx = run({}, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
    expect(ctx.maxBodyBytes).toBe(1024 * 1024);
  });

  it('still sets ctx.maxBodyBytes when the declared length is not a plain number', () => {
    const ctx = run({ maxBodyBytes: '2kb' }, { method: 'POST', headers: { 'content-length': '12, 12' } });
    expect(ctx.maxBodyBytes).toBe(2048);
  });

  it('treats maxBodyBytes 0 as "no body": a one-byte declared body is refused', () => {
    expect(denial({ maxBodyBytes: 0 }, { method: 'POST', headers: { 'content-length': '1' } }).code).toBe('GW_REQUEST_TOO_LARGE');
    expect(run({ maxBodyBytes: 0 }, { method: 'POST', headers: { 'content-length': '0' } }).maxBodyBytes).toBe(0);
  });
});

describe('request-size-limit target', () => {
  it('returns 414 GW_URI_TOO_LONG when the target exceeds maxUriBytes', () => {
    const error = denial({ maxUriBytes: 16 }, { url: '/a?' + 'x'.repeat(14) });
    expect(error.code).toBe('GW_URI_TOO_LONG');
    expect(error.status).toBe(414);
    expect(error.reason).toContain('17 bytes, limit 16');
  });

  it('counts the query string and accepts a target exactly at the limit', () => {
    expect(run({ maxUriBytes: 16 }, { url: '/a?' + 'x'.repeat(13) }).maxBodyBytes).toBe(1024 * 1024);
  });

  it('checks the target before the body', () => {
    const error = denial({ maxUriBytes: 4, maxBodyBytes: 1 }, { url: '/long', headers: { 'content-length': '5' } });
    expect(error.code).toBe('GW_URI_TOO_LONG');
  });
});

describe('request-size-limit headers', () => {
  it('returns 431 GW_HEADERS_TOO_LARGE when raw header names and values exceed maxHeaderBytes', () => {
    const error = denial({ maxHeaderBytes: 20 }, { rawHeaders: ['Host', 'example.com', 'X-Pad', 'abcd'] });
    expect(error.code).toBe('GW_HEADERS_TOO_LARGE');
    expect(error.status).toBe(431);
    expect(error.reason).toContain('24 bytes, limit 20');
  });

  it('counts every repeat of a header, not the single value Node keeps', () => {
    const rawHeaders = ['Cookie', 'a'.repeat(10), 'Cookie', 'b'.repeat(10), 'Cookie', 'c'.repeat(10)];
    const error = denial({ maxHeaderBytes: 40 }, { headers: { cookie: 'a'.repeat(10) }, rawHeaders });
    expect(error.code).toBe('GW_HEADERS_TOO_LARGE');
  });

  it('accepts headers exactly at the limit', () => {
    expect(run({ maxHeaderBytes: 15 }, { rawHeaders: ['Host', 'example.com'] }).maxBodyBytes).toBe(1024 * 1024);
  });

  it('does not count headers when maxHeaderBytes is unset', () => {
    const ctx = run({}, { rawHeaders: ['X-Big', 'y'.repeat(100_000)] });
    expect(ctx.maxBodyBytes).toBe(1024 * 1024);
  });
});

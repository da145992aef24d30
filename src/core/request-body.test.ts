import { describe, expect, it } from 'vitest';
import { makeContext } from '../../test/helpers/context.js';
import { isGatewayError } from '../errors/index.js';
import { bufferBody, isJsonContentType, jsonBody } from './request-body.js';

/** A context whose request stream carries `body` (as the listener's IncomingMessage would). */
function withBody(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const ctx = makeContext({ method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
  ctx.req.push(body);
  ctx.req.push(null);
  return ctx;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return isGatewayError(error) ? error.code : 'not a GatewayError';
  }
}

describe('request body for policies', () => {
  it('parses a JSON body once and serves later callers from the cache', async () => {
    const ctx = withBody('{"a":1}');
    expect(await jsonBody(ctx, 1024, 'test')).toEqual({ a: 1 });
    expect(ctx.body?.toString()).toBe('{"a":1}');
    ctx.body = Buffer.from('{"a":2}'); // a second parse would see this
    expect(await jsonBody(ctx, 1024, 'test')).toEqual({ a: 1 });
  });

  it('answers GW_BODY_INVALID for malformed JSON without echoing it', async () => {
    const ctx = withBody('{"a":<script>');
    expect(await codeOf(jsonBody(ctx, 1024, 'test'))).toBe('GW_BODY_INVALID');
  });

  it('does not parse a body that is not declared as JSON', async () => {
    const ctx = withBody('{"a":1}', { 'content-type': 'text/plain' });
    expect(await jsonBody(ctx, 1024, 'test')).toBeUndefined();
    expect(ctx.body).toBeUndefined();
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    expect(await codeOf(bufferBody(withBody('x'.repeat(100)), 10, 'test'))).toBe('GW_REQUEST_TOO_LARGE');
    const chunked = makeContext({ method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
    chunked.req.push('x'.repeat(100));
    chunked.req.push(null);
    expect(await codeOf(bufferBody(chunked, 10, 'test'))).toBe('GW_REQUEST_TOO_LARGE');
  });

  it('recognises JSON media types by RFC 6839 suffix, ignoring parameters and case', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('Application/Problem+JSON')).toBe(true);
    expect(isJsonContentType('application/jsonp')).toBe(false);
    expect(isJsonContentType('text/json+html')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});

describe('hostile JSON bodies', () => {
  it('refuses a duplicate key with GW_JSON_DUPLICATE_KEY and leaves parsedBody unset', async () => {
    const ctx = withBody('{"role":"user","role":"admin"}');
    expect(await codeOf(jsonBody(ctx, 1024, 'test'))).toBe('GW_JSON_DUPLICATE_KEY');
    expect(ctx.parsedBody).toBeUndefined();
  });

  it('refuses a nested __proto__ key and pollutes nothing', async () => {
    const ctx = withBody('{"a":{"b":[{"__proto__":{"polluted":true}}]}}');
    expect(await codeOf(jsonBody(ctx, 1024, 'test'))).toBe('GW_JSON_FORBIDDEN_KEY');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('applies the caller limits, then the defaults', async () => {
    const limits = { maxDepth: 2, maxKeys: 10, maxStringLength: 10, maxArrayLength: 10 };
    expect(await codeOf(jsonBody(withBody('[[[1]]]'), 1024, 'test', limits))).toBe('GW_JSON_LIMIT_EXCEEDED');
    expect(await codeOf(jsonBody(withBody('['.repeat(65) + ']'.repeat(65)), 1024, 'test'))).toBe('GW_JSON_LIMIT_EXCEEDED');
  });

  it('says which rule failed without echoing the payload', async () => {
    try {
      await jsonBody(withBody(`{"a":"${'<script>'.repeat(20)}"}`), 1024, 'test', { maxDepth: 5, maxKeys: 5, maxStringLength: 16, maxArrayLength: 5 });
      expect.unreachable();
    } catch (error) {
      expect(isGatewayError(error) && error.detail).toBe('A JSON string in the body is too long.');
      expect(String((error as Error).message)).not.toContain('<script>');
    }
  });
});

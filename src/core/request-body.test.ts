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

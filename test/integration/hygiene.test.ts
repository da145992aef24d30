import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { basicConfig, problemOf, rawRequest, startGateway, startUpstreamEcho, statusOf, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/**
 * Request smuggling and confusion: each malformed request is written byte for byte on a raw
 * socket; the gateway must answer 400 problem+json and the upstream must never see it.
 */
describe('request hygiene', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstreamEcho();
    gw = await startGateway(
      basicConfig(`  - name: admin
    match: { paths: ["/admin/*"] }
    forward: { upstream: up }
    policies:
      - name: ip-restriction
        config: { allow: ["10.0.0.0/8"] }
`),
      { upstreamUrl: upstream.url },
    );
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  const refused = async (payload: string, status = 400): Promise<Record<string, unknown> | undefined> => {
    const raw = await rawRequest(gw.port, payload);
    expect(statusOf(raw)).toBe(status);
    expect(upstream.seen).toHaveLength(0);
    expect(raw).toMatch(/content-type: application\/problem\+json/i);
    return problemOf(raw);
  };

  it('forwards a well-formed chunked request (the control case)', async () => {
    const raw = await rawRequest(gw.port, 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expect(statusOf(raw)).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]!.body.toString()).toBe('hello');
  });

  it.each([
    ['a list ending in chunked', 'Transfer-Encoding: cow, chunked'],
    ['upper case', 'Transfer-Encoding: CHUNKED'],
    ['two headers', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked'],
    ['identity', 'Transfer-Encoding: identity'],
    ['gzip, chunked', 'Transfer-Encoding: gzip, chunked'],
  ])('refuses Transfer-Encoding as %s with 400', async (_name, header) => {
    const problem = await refused(`POST /x HTTP/1.1\r\nHost: a\r\n${header}\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    expect(['GW_REQUEST_AMBIGUOUS', 'GW_BAD_REQUEST']).toContain(problem!.code);
  });

  it('never forwards the client\'s framing: a tab before "chunked" (valid OWS) is re-framed by the gateway', async () => {
    // RFC 9110 section 5.5 makes the tab optional whitespace, and Node strips it; a backend that
    // would read "\tchunked" differently never sees it, because Transfer-Encoding is hop-by-hop
    // and the gateway frames the upstream request itself.
    const raw = await rawRequest(gw.port, 'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expect(statusOf(raw)).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]!.body.toString()).toBe('hello');
    const teValues = upstream.seen[0]!.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1]!.toLowerCase() === 'transfer-encoding');
    // undici frames the body itself (chunked or a length): never the client's header.
    expect(teValues.filter((v) => v !== 'chunked')).toEqual([]);
  });

  it('refuses Transfer-Encoding together with Content-Length (CL.TE)', async () => {
    await refused('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /admin/x HTTP/1.1\r\nHost: a\r\n\r\n');
  });

  it('refuses two different Content-Length headers', async () => {
    await refused('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello!');
  });

  it('refuses two identical Content-Length headers', async () => {
    await refused('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
  });

  it('refuses a duplicate Host header', async () => {
    const problem = await refused('GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n');
    expect(problem!.code).toBe('GW_REQUEST_AMBIGUOUS');
  });

  it('refuses a request without Host', async () => {
    await refused('GET /x HTTP/1.1\r\nConnection: close\r\n\r\n');
  });

  it('refuses a request with an empty Host', async () => {
    const problem = await refused('GET /x HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n');
    expect(problem!.code).toBe('GW_BAD_REQUEST');
  });

  it('refuses a request line claiming HTTP/0.9', async () => {
    const problem = await refused('GET /x HTTP/0.9\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(problem!.detail).toBe('The HTTP version is not supported.');
  });

  it.each([
    ['after the path', '/x#frag'],
    ['after the query', '/x?a=1#frag'],
  ])('refuses a fragment %s', async (_name, target) => {
    const problem = await refused(`GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    expect(problem!.code).toBe('GW_BAD_REQUEST');
  });

  it.each([
    ['with a port', 'internal.example:443'],
    ['without one', 'internal.example'],
  ])('answers CONNECT %s with 400 problem+json: no tunnel', async (_name, authority) => {
    const problem = await refused(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    expect(problem!.code).toBe('GW_BAD_REQUEST');
    expect(gw.logs.access().at(-1)).toMatchObject({ status: 400, reason: 'CONNECT_NOT_SERVED' });
  });

  it('refuses an absolute-form target that disagrees with Host', async () => {
    const problem = await refused('GET http://internal.example/admin/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(problem!.code).toBe('GW_REQUEST_AMBIGUOUS');
  });

  it('accepts an absolute-form target that agrees with Host, using its path', async () => {
    const raw = await rawRequest(gw.port, 'GET http://a/x?q=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(statusOf(raw)).toBe(200);
    expect(upstream.seen[0]!.url).toBe('/x?q=1');
  });

  it.each([
    ['a NUL byte in a value', 'X-A: a\u0000b'],
    ['a bare CR in a value', 'X-A: a\rb'],
    ['a control character in a value', 'X-A: a\u0001b'],
    ['DEL in a value', 'X-A: a\u007fb'],
    ['a space in a name', 'X A: b'],
    ['a colon-less line', 'X-A'],
    ['obsolete line folding', 'X-A: a\r\n b'],
    ['a space before the colon', 'X-A : b'],
  ])('refuses %s', async (_name, header) => {
    await refused(`GET /x HTTP/1.1\r\nHost: a\r\n${header}\r\nConnection: close\r\n\r\n`);
  });

  it('refuses a Host header that is not host[:port]', async () => {
    const problem = await refused('GET /x HTTP/1.1\r\nHost: a/b@c\r\nConnection: close\r\n\r\n');
    expect(problem!.code).toBe('GW_HEADER_INVALID');
  });

  it.each([
    ['an encoded slash', '/admin%2fx'],
    ['an encoded NUL', '/x%00'],
    ['a backslash', '/x\\..\\admin'],
    ['bad percent-encoding', '/x%zz'],
  ])('refuses a path with %s', async (_name, path) => {
    const problem = await refused(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    expect(['GW_PATH_INVALID', 'GW_BAD_REQUEST']).toContain(problem!.code);
  });

  it.each([
    ['dot segments', '/public/../admin/x'],
    ['encoded dot segments', '/public/%2e%2e/admin/x'],
    ['a doubled slash', '//admin/x'],
    ['an encoded letter', '/%61dmin/x'],
    ['a dot segment', '/./admin/x'],
  ])('routes %s to the protected route, never around it', async (_name, path) => {
    // The admin route allows only 10.0.0.0/8; the test client is 127.0.0.1.
    const problem = await refused(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, 403);
    expect(problem!.code).toBe('GW_IP_DENIED');
  });

  it('sends the upstream the same normalised path that was routed', async () => {
    const raw = await rawRequest(gw.port, 'GET /a/./b/../c//d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(statusOf(raw)).toBe(200);
    expect(upstream.seen[0]!.url).toBe('/a/c/d');
  });

  it('removes hop-by-hop headers and those named in Connection before forwarding', async () => {
    const raw = await rawRequest(
      gw.port,
      'GET /x HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Authorization: Basic eDp5\r\nX-Kept: yes\r\n\r\n',
    );
    expect(statusOf(raw)).toBe(200);
    const headers = upstream.seen[0]!.headers;
    expect(headers['x-kept']).toBe('yes');
    for (const name of ['x-secret-hop', 'keep-alive', 'te', 'proxy-authorization']) expect(headers[name]).toBeUndefined();
  });
});

import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { basicConfig, startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

const json = (status: number, value: unknown, contentType = 'application/json'): Handler => (_req, res) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

describe('openapi policy through the gateway', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function start(handler: Handler, config = '', mode = 'enforce', spec = 'pets.yaml'): Promise<void> {
    upstream = await startUpstreamEcho(handler);
    const route = `    policies:\n      - name: openapi\n        mode: ${mode}\n        config: { spec: test/fixtures/openapi/${spec}${config} }\n`;
    gw = await startGateway(basicConfig(route), { upstreamUrl: upstream.url });
  }

  const get = (path: string, headers: Record<string, string> = { 'x-api-version': '1' }) => fetch(gw.url + path, { headers });
  const post = (path: string, body: string) => fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('forwards a valid request and answers an invalid body with problem+json errors, never calling the upstream', async () => {
    await start(json(201, { id: 1, name: 'rex' }));
    expect((await post('/pets', '{"name":"rex"}')).status).toBe(201);
    const res = await post('/pets', '{"name":42,"id":7}');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ code: 'GW_REQUEST_INVALID', status: 400, detail: 'The request does not match the API description.' });
    expect(problem.errors).toEqual([
      { pointer: '/body/id', detail: 'is read-only' },
      { pointer: '/body/name', detail: 'must be string' },
    ]);
    expect(upstream.seen).toHaveLength(1);
  });

  it('answers undeclared endpoints 404 and undeclared methods 405 with Allow', async () => {
    await start(json(200, {}));
    expect((await get('/internal/debug')).status).toBe(404);
    const res = await fetch(`${gw.url}/pets/1`, { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, DELETE, HEAD');
    expect(upstream.seen).toHaveLength(0);
  });

  it('in monitor mode forwards undeclared traffic and logs it per route (shadow endpoints)', async () => {
    await start(json(200, {}), '', 'monitor');
    expect((await get('/internal/debug')).status).toBe(200);
    await expect.poll(() => gw.logs.access().length).toBe(1);
    expect(gw.logs.access()[0]).toMatchObject({ route: 'all', monitor: [{ policy: 'openapi', code: 'GW_ROUTE_NOT_FOUND', reason: 'openapi: path not declared in the spec' }] });
  });

  it('in monitor mode forwards an invalid body unchanged and records why it would have been refused', async () => {
    await start(json(201, { id: 1, name: 'rex' }), '', 'monitor');
    expect((await post('/pets', '{"name":42}')).status).toBe(201);
    expect(upstream.seen[0]!.body.toString()).toBe('{"name":42}');
    await expect.poll(() => gw.logs.access().length).toBe(1);
    expect(gw.logs.access()[0]!.monitor).toEqual([{ policy: 'openapi', code: 'GW_REQUEST_INVALID', reason: expect.stringContaining('/body/name must be string') }]);
  });

  it('strips a mass-assignment attempt from the request body and sends the upstream a matching Content-Length', async () => {
    await start(json(201, { id: 1, name: 'rex' }), ', unknownBodyProperties: remove');
    const attempt = '{"name":"rex","isAdmin":true,"owner":{"email":"a@b.example","role":"admin","tenant":"other"}}';
    expect((await post('/pets', attempt)).status).toBe(201);
    const sent = '{"name":"rex","owner":{"email":"a@b.example"}}';
    expect(upstream.seen[0]!.body.toString()).toBe(sent);
    expect(upstream.seen[0]!.headers['content-length']).toBe(String(sent.length));
  });

  it('strips a chunked request body too, sent on with a Content-Length', async () => {
    await start(json(201, { id: 1, name: 'rex' }), ', unknownBodyProperties: remove');
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"name":"rex",'));
        controller.enqueue(new TextEncoder().encode('"isAdmin":true}'));
        controller.close();
      },
    });
    const res = await fetch(gw.url + '/pets', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(201);
    expect(upstream.seen[0]!.body.toString()).toBe('{"name":"rex"}');
    expect(upstream.seen[0]!.headers['content-length']).toBe('14');
    expect(upstream.seen[0]!.headers['transfer-encoding']).toBeUndefined();
  });

  it('removes undeclared and writeOnly properties from responses', async () => {
    await start(json(200, { id: 1, name: 'rex', password: 'hunter2', internalScore: 99, owner: { email: 'a@b.example', ssn: 'x' } }));
    const res = await get('/pets/1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 1, name: 'rex', owner: { email: 'a@b.example' } });
  });

  it('reports undeclared properties instead of removing them when configured', async () => {
    await start(json(200, { id: 1, name: 'rex', internalScore: 99 }), ', responses: { undeclaredProperties: report }');
    expect(await (await get('/pets/1')).json()).toEqual({ id: 1, name: 'rex', internalScore: 99 });
    await expect.poll(() => gw.logs.access().length).toBe(1);
    expect(gw.logs.access()[0]!.monitor).toEqual([{ policy: 'openapi', code: 'GW_RESPONSE_INVALID', reason: expect.stringContaining('undeclared') }]);
  });

  it('blocks a response that breaks its schema with 502 GW_RESPONSE_INVALID', async () => {
    await start(json(200, { id: 'not-a-number', name: 'rex' }));
    const res = await get('/pets/1');
    expect(res.status).toBe(502);
    expect(((await res.json()) as { code: string }).code).toBe('GW_RESPONSE_INVALID');
  });

  it('masks card numbers (Luhn-checked), e-mail addresses, JWTs and SSNs in responses', async () => {
    const order = { item: '4111 1111 1111 1111 then 4111 1111 1111 1112', email: 'alice@example.com', card: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln', note: 'ssn 123-45-6789' };
    await start(json(200, order), ', responses: { sensitiveData: { kinds: [card, email, jwt, us-ssn] } }', 'enforce', 'orders-3.1.json');
    const body = (await (await get('/orders/abcd')).json()) as Record<string, string>;
    expect(body).toEqual({
      item: '[redacted card] then 4111 1111 1111 1112',
      email: '[redacted email]',
      card: '[redacted jwt]',
      note: 'ssn [redacted us-ssn]',
    });
  });

  it('blocks a response carrying a private key or one of our API keys when the action is block', async () => {
    const key = 'pcl_' + 'a'.repeat(12) + '_' + 'B'.repeat(49);
    await start(json(200, { item: `leak ${key}` }), ', responses: { sensitiveData: { kinds: [api-key, private-key], action: block } }', 'enforce', 'orders-3.1.json');
    const res = await get('/orders/abcd');
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'GW_RESPONSE_BLOCKED' });
    expect(text).not.toContain('pcl_');
  });

  it('replaces an upstream 500 with a stack trace by a generic problem', async () => {
    const trace = 'TypeError: x is undefined\n    at handler (/srv/app/routes/pets.js:42:13)\n    at process (node:internal/x:1:1)';
    await start(json(500, trace, 'text/plain'));
    const res = await get('/pets/1');
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'GW_UPSTREAM_ERROR' });
    expect(text).not.toContain('/srv/app');
  });

  it('reports a JSON response with an undeclared status by default', async () => {
    await start(json(418, { teapot: true }));
    expect((await fetch(`${gw.url}/pets/1`, { method: 'DELETE' })).status).toBe(418);
    await expect.poll(() => gw.logs.access().length).toBe(1);
    expect(gw.logs.access()[0]!.monitor).toEqual([{ policy: 'openapi', code: 'GW_RESPONSE_INVALID', reason: expect.stringContaining('status 418') }]);
  });

  it('blocks a JSON response with an undeclared status when undeclaredResponses is block', async () => {
    await start(json(418, { teapot: true }), ', responses: { undeclaredResponses: block }');
    expect((await fetch(`${gw.url}/pets/1`, { method: 'DELETE' })).status).toBe(502);
  });

  it('passes an upstream error body without internals unchanged', async () => {
    await start(json(503, { message: 'maintenance' }));
    const res = await get('/pets/1');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ message: 'maintenance' });
  });
});


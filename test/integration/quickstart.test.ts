import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { ensureBuilt, MAIN, waitFor } from '../helpers/child-gateway.js';

/**
 * The README's promise: `npm start` runs the quick start as documented, on its documented ports
 * (gateway 8080, admin 9901, OAuth server 9000, demo upstream 3001), and the walkthrough's calls
 * answer as the README says. Fails if something else holds those ports.
 */
describe('the quick start (npm start)', () => {
  let child: ChildProcess;
  let stderr = '';

  beforeAll(async () => {
    await ensureBuilt();
    child = spawn(process.execPath, [MAIN, 'quickstart'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stderr.includes('Portcullis quick start') || child.exitCode !== null, 30_000, 'the quick start banner');
    expect(child.exitCode, stderr).toBeNull();
  }, 60_000);
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('proxies /demo/ to the echo upstream with /demo stripped and security headers set', async () => {
    const res = await request('http://127.0.0.1:8080/demo/hello?name=portcullis');
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers.server).toBeUndefined();
    const echo = (await res.body.json()) as { path: string; query: Record<string, string> };
    expect(echo).toMatchObject({ path: '/hello', query: { name: 'portcullis' } });
  });

  it('refuses every spelling of /internal/ from loopback with 403', async () => {
    const res = await request('http://127.0.0.1:8080/demo/../%69nternal//x');
    expect(res.statusCode).toBe(403);
    expect(((await res.body.json()) as { code: string }).code).toBe('GW_IP_DENIED');
  });

  it('protects /demo/jwt/ with JWTs from the bundled OAuth server', async () => {
    const anonymous = await request('http://127.0.0.1:8080/demo/jwt/orders');
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();
    const tokenResponse = await request('http://127.0.0.1:9000/token', {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=read&resource=https%3A%2F%2Fapi.portcullis.local%2Fjwt',
    });
    expect(tokenResponse.statusCode).toBe(200);
    const { access_token: token } = (await tokenResponse.body.json()) as { access_token: string };
    const res = await request('http://127.0.0.1:8080/demo/jwt/orders', { headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const echo = (await res.body.json()) as { path: string; headers: Record<string, string> };
    expect(echo.path).toBe('/orders');
    expect(echo.headers['x-auth-subject']).toBe('demo-client');
    expect(echo.headers['x-auth-scopes']).toBe('read');
  });

  it('swaps an opaque token for a phantom JWT on /demo/opaque/: the upstream never sees the opaque token', async () => {
    const tokenResponse = await request('http://127.0.0.1:9000/token', {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=read',
    });
    const { access_token: opaque } = (await tokenResponse.body.json()) as { access_token: string };
    expect(opaque.split('.')).toHaveLength(1);
    const res = await request('http://127.0.0.1:8080/demo/opaque/orders', { headers: { authorization: `Bearer ${opaque}` } });
    expect(res.statusCode).toBe(200);
    const echo = (await res.body.json()) as { headers: Record<string, string> };
    expect(echo.headers.authorization).toMatch(/^Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.stringify(echo)).not.toContain(opaque);
    expect(echo.headers['x-auth-method']).toBe('introspection');
  });

  it('protects /api/ by its OpenAPI description: filtered response, invalid body, undeclared path and method', async () => {
    const pet = await request('http://127.0.0.1:8080/api/pets/1');
    expect(pet.statusCode).toBe(200);
    // The demo upstream also sends ownerEmail and internalNotes, which the description does not declare.
    expect(await pet.body.json()).toEqual({ id: 1, name: 'Rex', tag: 'dog' });
    const created = await request('http://127.0.0.1:8080/api/pets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Fido","tag":"dog"}' });
    expect(created.statusCode).toBe(201);
    expect(await created.body.json()).toEqual({ id: 42, name: 'Fido', tag: 'dog' });
    const massAssignment = await request('http://127.0.0.1:8080/api/pets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Fido","isAdmin":true}' });
    expect(massAssignment.statusCode).toBe(400);
    expect(await massAssignment.body.json()).toMatchObject({ code: 'GW_REQUEST_INVALID', errors: [{ pointer: '/body' }] });
    const badId = await request('http://127.0.0.1:8080/api/pets/abc');
    expect(badId.statusCode).toBe(400);
    expect(await badId.body.json()).toMatchObject({ errors: [{ pointer: '/path/petId', detail: 'must be integer' }] });
    const undeclared = await request('http://127.0.0.1:8080/api/users');
    expect(undeclared.statusCode).toBe(404);
    await undeclared.body.dump();
    const wrongMethod = await request('http://127.0.0.1:8080/api/pets/1', { method: 'DELETE' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD');
    await wrongMethod.body.dump();
  });

  it('serves health and metrics on the admin listener', async () => {
    const health = await request('http://127.0.0.1:9901/health');
    expect(await health.body.json()).toEqual({ status: 'ok' });
    const metrics = await (await request('http://127.0.0.1:9901/metrics')).body.text();
    expect(metrics).toMatch(/portcullis_requests_total\{route="demo",method="GET",status="200"\} [1-9]/);
  });
});

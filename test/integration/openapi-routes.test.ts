import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

/** Answers each operation of test/fixtures/openapi/routes.yaml with a body its schema accepts. */
function petsApi(req: IncomingMessage, res: ServerResponse): void {
  const send = (status: number, value?: unknown) => {
    const text = value === undefined ? '' : JSON.stringify(value);
    res.writeHead(status, value === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (req.method === 'POST') return send(201, { id: 1, name: 'rex' });
  if (req.method === 'DELETE') return send(204);
  if (req.url!.startsWith('/pets/')) return send(200, { id: 1, name: 'rex', secret: 'x' });
  return send(200, [{ id: 1, name: 'rex' }]);
}

const yaml = (extra = '') => `version: 1
server:
  listeners: [{ host: 127.0.0.1, port: 0 }]
admin: { enabled: false }
upstreams:
  up: { targets: [{ url: "{{UPSTREAM}}" }] }
routes:
  - name: pets
    openapi:
      spec: test/fixtures/openapi/routes.yaml
      basePath: /api
${extra}    forward: { upstream: up, stripPrefix: /api }
`;

describe('routes generated from an OpenAPI description, through the gateway', () => {
  let upstream: EchoUpstream;
  let gw: TestGateway;
  afterEach(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function start(extra = ''): Promise<void> {
    upstream = await startUpstreamEcho(petsApi);
    gw = await startGateway(yaml(extra), { upstreamUrl: upstream.url });
  }

  it('routes each operation by method and template to the upstream, validated by the spec, one route name each', async () => {
    await start();
    expect((await fetch(`${gw.url}/api/pets?limit=5`)).status).toBe(200);
    const created = await fetch(`${gw.url}/api/pets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"rex"}' });
    expect(created.status).toBe(201);
    const shown = await fetch(`${gw.url}/api/pets/1`);
    expect(await shown.json()).toEqual({ id: 1, name: 'rex' }); // the undeclared "secret" is removed
    expect((await fetch(`${gw.url}/api/pets/1`, { method: 'DELETE' })).status).toBe(204);
    expect(upstream.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /pets?limit=5', 'POST /pets', 'GET /pets/1', 'DELETE /pets/1']);
    await expect.poll(() => gw.logs.access().length).toBe(4);
    expect(gw.logs.access().map((l) => l.route)).toEqual(['pets.listPets', 'pets.createPet', 'pets.showPet', 'pets.deletePet']);
  });

  it('still validates parameters and bodies per operation', async () => {
    await start();
    expect((await fetch(`${gw.url}/api/pets?limit=500`)).status).toBe(400);
    expect((await fetch(`${gw.url}/api/pets/0`)).status).toBe(400);
    const bad = await fetch(`${gw.url}/api/pets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":42}' });
    expect(bad.status).toBe(400);
    expect(upstream.seen).toHaveLength(0);
  });

  it('answers an undeclared method 405 with Allow and an undeclared path 404, never calling the upstream', async () => {
    await start();
    const put = await fetch(`${gw.url}/api/pets/1`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, DELETE');
    expect((await fetch(`${gw.url}/api/admin`)).status).toBe(404);
    expect((await fetch(`${gw.url}/pets`)).status).toBe(404);
    expect(upstream.seen).toHaveLength(0);
  });

  it('applies a per-operation policy to its operation only', async () => {
    await start(`      operations:\n        deletePet:\n          policies: [{ name: ip-restriction, config: { deny: ["127.0.0.1"] } }]\n`);
    expect((await fetch(`${gw.url}/api/pets/1`, { method: 'DELETE' })).status).toBe(403);
    expect((await fetch(`${gw.url}/api/pets/1`)).status).toBe(200);
    expect((await fetch(`${gw.url}/api/pets`)).status).toBe(200);
    expect(upstream.seen.map((s) => s.method)).toEqual(['GET', 'GET']);
  });
});

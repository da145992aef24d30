import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAuthServerConfigText } from '../../src/auth-server/load.js';
import { startAuthServer, type RunningAuthServer } from '../../src/auth-server/server.js';
import { dropSchema, PG_URL, uniqueSchema } from '../storage/pg-helpers.js';

/**
 * The bundled OAuth server keeps its tokens in the Store: a token issued before a restart still
 * introspects active after it, and a revocation made before a restart stays in force after it.
 * Against SQLite and PostgreSQL; the memory backend shows what the Store is for (tokens forgotten).
 */
const dir = mkdtempSync(join(tmpdir(), 'portcullis-auth-state-'));
const schemas: string[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const schema of schemas) await dropSchema(schema);
});

const CLIENTS = `
listen: { port: 0 }
clients:
  - { clientId: app, clientSecret: app-secret-1, scopes: [read] }
  - { clientId: gateway, clientSecret: gateway-secret-1, introspection: true }
`;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function start(storage: string): Promise<RunningAuthServer> {
  const { config } = loadAuthServerConfigText(`${CLIENTS}storage: ${storage}\n`, join(dir, 'auth.yaml'));
  return startAuthServer(config, { dir });
}

async function post(server: RunningAuthServer, path: string, auth: string, form: Record<string, string>) {
  const res = await request(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

const issue = async (server: RunningAuthServer) => {
  const res = await post(server, '/token', basic('app', 'app-secret-1'), { grant_type: 'client_credentials', scope: 'read' });
  expect(res.status).toBe(200);
  return res.json['access_token'] as string;
};
const introspect = (server: RunningAuthServer, token: string) => post(server, '/token/introspection', basic('gateway', 'gateway-secret-1'), { token });
const revoke = (server: RunningAuthServer, token: string) => post(server, '/token/revocation', basic('app', 'app-secret-1'), { token });

const backends: [string, () => string][] = [
  ['sqlite', () => `{ backend: sqlite, sqlite: { path: ./data/auth-${Math.random().toString(36).slice(2)}.db } }`],
  [
    'postgres',
    () => {
      const schema = uniqueSchema();
      schemas.push(schema);
      return `{ backend: postgres, postgres: { url: "${PG_URL}", schema: ${schema}, poolSize: 2 } }`;
    },
  ],
];

describe.each(backends)('bundled OAuth server state in the Store (%s)', (_name, storageFor) => {
  it('keeps an issued token active across a restart, and keeps a revocation across the next one', async () => {
    const storage = storageFor();
    let server = await start(storage);
    const kept = await issue(server);
    const revoked = await issue(server);
    expect((await introspect(server, kept)).json).toMatchObject({ active: true, client_id: 'app', scope: 'read' });
    await server.close();

    server = await start(storage);
    expect((await introspect(server, kept)).json).toMatchObject({ active: true, client_id: 'app', scope: 'read' });
    expect((await introspect(server, revoked)).json).toMatchObject({ active: true });
    expect((await revoke(server, revoked)).status).toBe(200);
    expect((await introspect(server, revoked)).json).toEqual({ active: false });
    await server.close();

    server = await start(storage);
    expect((await introspect(server, revoked)).json).toEqual({ active: false });
    expect((await introspect(server, kept)).json).toMatchObject({ active: true });
    // A made-up token is not in the Store either.
    expect((await introspect(server, `${kept.slice(0, -4)}AAAA`)).json).toEqual({ active: false });
    await server.close();
  });
});

describe('bundled OAuth server state in memory', () => {
  it('forgets every token on restart (the reason to keep state in the Store)', async () => {
    let server = await start('{ backend: memory }');
    const token = await issue(server);
    expect((await introspect(server, token)).json).toMatchObject({ active: true });
    await server.close();
    server = await start('{ backend: memory }');
    expect((await introspect(server, token)).json).toEqual({ active: false });
    await server.close();
  });
});

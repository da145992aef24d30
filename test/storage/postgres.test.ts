import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { PostgresStore } from '../../src/storage/postgres/store.js';
import { codeOf, runStoreContract } from './contract.js';
import { POSTGRES_MIGRATIONS } from '../../src/storage/postgres/migrations/index.js';
import { adminQuery, dropSchema, PG_URL, uniqueSchema } from './pg-helpers.js';

// Every schema made here is dropped at the end even when a test failed before its own cleanup.
const made = new Set<string>();
afterAll(async () => {
  for (const schema of made) await dropSchema(schema);
});

async function freshStore(): Promise<{ store: PostgresStore; schema: string }> {
  const schema = uniqueSchema();
  made.add(schema);
  return { store: await PostgresStore.open({ url: PG_URL, schema, poolSize: 4 }), schema };
}

runStoreContract('postgres', async () => {
  const { store, schema } = await freshStore();
  return { store, cleanup: () => dropSchema(schema) };
});

describe('PostgresStore', () => {
  it('migrates idempotently, also when several stores open the same schema at once', async () => {
    const schema = uniqueSchema();
    made.add(schema);
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open({ url: PG_URL, schema, poolSize: 2 })));
    for (const s of stores) expect(await s.schemaVersion()).toBe(POSTGRES_MIGRATIONS.length);
    await stores[0]!.consumers.create({ name: 'shared' });
    expect((await stores[2]!.consumers.getByName('shared'))?.name).toBe('shared');
    await Promise.all(stores.map((s) => s.close()));
    const again = await PostgresStore.open({ url: PG_URL, schema });
    await again.close();
    const { rows } = await adminQuery(`SELECT version, name FROM "${schema}".schema_migrations`);
    expect(rows).toEqual(POSTGRES_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  });

  it('keeps each schema to itself', async () => {
    const a = await freshStore();
    const b = await freshStore();
    await a.store.consumers.create({ name: 'only-in-a' });
    expect(await b.store.consumers.getByName('only-in-a')).toBeNull();
    await Promise.all([a.store.close(), b.store.close()]);
  });

  it('refuses a database whose schema is newer than this build', async () => {
    const { store, schema } = await freshStore();
    await store.close();
    await adminQuery(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (99, 'future')`);
    expect(await codeOf(PostgresStore.open({ url: PG_URL, schema }))).toBe('STORE_SCHEMA');
  });

  it('reports a server that is not there as STORE_UNAVAILABLE, without the URL in the message', async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((done) => server.close(() => done()));
    const err = await PostgresStore.open({ url: `postgres://postgres:s3cret@127.0.0.1:${port}/test`, connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('turns a connection lost mid-use into STORE_UNAVAILABLE, then works again', async () => {
    // A TCP relay in front of PostgreSQL that the test can cut, as a network drop or server restart would.
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => (client.destroy(), upstream.destroy());
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((done) => relay.listen(0, '127.0.0.1', done));
    const port = (relay.address() as AddressInfo).port;
    const schema = uniqueSchema();
    made.add(schema);
    const errors: Error[] = [];
    const store = await PostgresStore.open({ url: `postgres://postgres@127.0.0.1:${port}/test`, schema, poolSize: 1, onError: (e) => errors.push(e) });
    await store.consumers.create({ name: 'before' });
    for (const s of sockets) s.destroy();
    // The pool either still holds the dead connection (the query fails) or has dropped it and connects anew.
    const first = await store.consumers.getByName('before').then(() => 'ok', (e: unknown) => (e as { code?: string }).code);
    expect(['ok', 'STORE_UNAVAILABLE']).toContain(first);
    expect((await store.consumers.getByName('before'))?.name).toBe('before');
    await store.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((done) => relay.close(() => done()));
  });

  it('openStore opens the postgres backend from config', async () => {
    const schema = uniqueSchema();
    made.add(schema);
    const store = await openStore({ storage: { backend: 'postgres', sqlite: { path: 'unused' }, postgres: { url: PG_URL, poolSize: 2, schema } } }, '/nonexistent');
    expect(store.backend).toBe('postgres');
    await store.consumers.create({ name: 'via-config' });
    await store.close();
  });
});

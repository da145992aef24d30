import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { migrateSqlite } from '../../src/storage/sqlite/migrate.js';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { codeOf, runStoreContract } from './contract.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations/index.js';

const root = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `run-${++n}`, 'data', 'portcullis.db');

runStoreContract('sqlite (file, WAL)', async () => ({ store: SqliteStore.open({ path: freshPath() }) }));
runStoreContract('sqlite (:memory:)', async () => ({ store: SqliteStore.open({ path: ':memory:' }) }));

describe('SqliteStore', () => {
  it('creates the data folder, uses WAL, and migrates idempotently', async () => {
    const path = freshPath();
    const first = SqliteStore.open({ path });
    expect(first.journalMode).toBe('wal');
    const c = await first.consumers.create({ name: 'kept' });
    await first.close();
    const second = SqliteStore.open({ path });
    expect(await second.schemaVersion()).toBe(SQLITE_MIGRATIONS.length);
    expect((await second.consumers.get(c.id))?.name).toBe('kept');
    await second.close();
    const db = new BetterSqlite3(path, { readonly: true });
    expect(db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual(SQLITE_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    db.close();
  });

  it('upgrades a database made by an older build, keeping its rows', async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const old = new BetterSqlite3(path);
    migrateSqlite(old, SQLITE_MIGRATIONS.slice(0, 1));
    old.prepare("INSERT INTO consumers (id, name, created_at, updated_at) VALUES ('cons_old', 'from-v1', 0, 0)").run();
    old.close();
    const store = SqliteStore.open({ path });
    expect(await store.schemaVersion()).toBe(SQLITE_MIGRATIONS.length);
    expect((await store.consumers.get('cons_old'))?.name).toBe('from-v1');
    await store.oauth.upsert({ model: 'Grant', id: 'g', payload: { ok: true } });
    expect((await store.oauth.find('Grant', 'g'))?.payload).toEqual({ ok: true });
    await store.close();
  });

  it('refuses a database whose schema is newer than this build', async () => {
    const path = freshPath();
    await SqliteStore.open({ path }).close();
    const db = new BetterSqlite3(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('future');
    db.close();
    expect(() => SqliteStore.open({ path })).toThrow(expect.objectContaining({ code: 'STORE_SCHEMA' }));
  });

  it('reports a file it cannot open as STORE_UNAVAILABLE', () => {
    // A path below a regular file: the folder cannot be made.
    const path = freshPath();
    const blocker = join(path, '..', '..', 'file');
    SqliteStore.open({ path: blocker }).close();
    expect(() => SqliteStore.open({ path: join(blocker, 'x', 'db.sqlite') })).toThrow(expect.objectContaining({ code: 'STORE_UNAVAILABLE' }));
  });

  it('openStore resolves a relative path from the config folder, and defaults to ./data/portcullis.db', async () => {
    const dir = join(root, 'config-dir');
    const store = await openStore({}, dir);
    expect(store.backend).toBe('sqlite');
    await store.consumers.create({ name: 'x' });
    await store.close();
    const db = new BetterSqlite3(join(dir, 'data', 'portcullis.db'), { readonly: true });
    expect(db.prepare('SELECT name FROM consumers').all()).toEqual([{ name: 'x' }]);
    db.close();
    const custom = await openStore(
      { storage: { backend: 'sqlite', sqlite: { path: 'other/db.sqlite' }, postgres: { url: 'postgres://x', poolSize: 1, schema: 'public' } } },
      dir,
    );
    await custom.close();
    expect(await codeOf(custom.consumers.get('x'))).toBe('STORE_FAILED');
  });
});

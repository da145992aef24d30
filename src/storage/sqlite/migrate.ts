import type { Database } from 'better-sqlite3';
import { StoreError } from '../errors.js';
import { checkMigrationList, unknownVersions, type Migration } from '../migration.js';

/**
 * Applies the missing migrations in one IMMEDIATE transaction: it takes the write lock first, so a
 * second process opening the same file waits (busy_timeout) and then sees the versions recorded.
 * Returns the schema version after migrating.
 */
export function migrateSqlite(db: Database, migrations: readonly Migration<Database>[]): number {
  checkMigrationList(migrations);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  const apply = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
    const applied = (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version);
    const unknown = unknownVersions(migrations, applied);
    if (unknown.length > 0) {
      // An older build on a newer database could write rows the newer schema forbids: refuse to start.
      throw new StoreError('STORE_SCHEMA', `database schema version ${Math.max(...unknown)} is newer than this build knows (${latest})`);
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of migrations.filter((m) => !applied.includes(m.version))) {
      const result = m.up(db);
      if (result instanceof Promise) throw new Error(`sqlite migration ${m.name} must be synchronous`);
      record.run(m.version, m.name, Date.now());
    }
    return latest;
  });
  return apply.immediate();
}

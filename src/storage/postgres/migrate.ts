import type pg from 'pg';
import { StoreError } from '../errors.js';
import { checkMigrationList, unknownVersions, type Migration } from '../migration.js';
import { inTransaction } from './errors.js';

/**
 * Applies the missing migrations in one transaction under an advisory lock keyed by the schema name:
 * several gateways starting at once against one database serialise here, and the later ones find the
 * versions already recorded. PostgreSQL DDL is transactional, so a failing migration leaves nothing.
 */
export async function migratePostgres(pool: pg.Pool, schema: string, migrations: readonly Migration<pg.PoolClient>[]): Promise<number> {
  checkMigrationList(migrations);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  return inTransaction(pool, { entity: 'schema' }, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('portcullis-migrate:' || $1))", [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = rows.map((r) => r.version);
    const unknown = unknownVersions(migrations, applied);
    if (unknown.length > 0) {
      throw new StoreError('STORE_SCHEMA', `database schema version ${Math.max(...unknown)} is newer than this build knows (${latest})`);
    }
    for (const m of migrations.filter((m) => !applied.includes(m.version))) {
      await m.up(client);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    return latest;
  });
}

/** Schema names come from config, so they are checked and quoted, never pasted raw. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteIdent(name: string): string {
  if (!SCHEMA_NAME.test(name)) throw new StoreError('STORE_INVALID', 'schema name must match ^[a-z_][a-z0-9_]{0,62}$');
  return `"${name}"`;
}

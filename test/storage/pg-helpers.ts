import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The CI server: trust auth, database `test` (README of the storage issue). */
export const PG_URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema name no other run uses, so parallel runs against one database never collide. */
export function uniqueSchema(): string {
  return `portcullis_test_${randomBytes(6).toString('hex')}`;
}

/** Runs one statement on a short-lived connection (for setup and teardown outside the store). */
export async function adminQuery(sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  if (!/^portcullis_test_[0-9a-f]+$/.test(schema)) throw new Error(`refusing to drop ${schema}`);
  await adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

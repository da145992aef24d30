import type { PoolClient } from 'pg';
import type { Migration } from '../../migration.js';

/** Audit records, as in the SQLite migration of the same version; ts is milliseconds since the epoch. */
export const audit: Migration<PoolClient> = {
  version: 4,
  name: 'audit-records',
  async up(db) {
    await db.query(`
      CREATE TABLE audit_records (
        position  bigint PRIMARY KEY,
        seq       bigint NOT NULL,
        ts        bigint NOT NULL,
        kind      text NOT NULL,
        actor     text,
        route     text,
        outcome   text NOT NULL,
        hash      text NOT NULL,
        body      text NOT NULL
      );
      CREATE INDEX audit_records_by_ts ON audit_records (ts);
      CREATE INDEX audit_records_by_actor ON audit_records (actor, position);
      CREATE INDEX audit_records_checkpoints ON audit_records (kind, position);
    `);
  },
};

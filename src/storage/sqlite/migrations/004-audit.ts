import type { Database } from 'better-sqlite3';
import type { Migration } from '../../migration.js';

/**
 * Audit records (src/audit/). `position` is storage order; `seq`, `hash` and `body` belong to the
 * hash chain; ts, kind, actor, route and outcome are copies of body fields kept only for filtering.
 */
export const audit: Migration<Database> = {
  version: 4,
  name: 'audit-records',
  up(db) {
    db.exec(`
      CREATE TABLE audit_records (
        position  INTEGER PRIMARY KEY,
        seq       INTEGER NOT NULL,
        ts        INTEGER NOT NULL,
        kind      TEXT NOT NULL,
        actor     TEXT,
        route     TEXT,
        outcome   TEXT NOT NULL,
        hash      TEXT NOT NULL,
        body      TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_records_by_ts ON audit_records (ts);
      CREATE INDEX audit_records_by_actor ON audit_records (actor, position);
      CREATE INDEX audit_records_checkpoints ON audit_records (kind, position);
    `);
  },
};

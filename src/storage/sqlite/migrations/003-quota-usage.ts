import type { Database } from 'better-sqlite3';
import type { Migration } from '../../migration.js';

/** Quota usage per consumer and period (`<quota>:2026-11-23`); updated_at in ms since the epoch. */
export const quotaUsage: Migration<Database> = {
  version: 3,
  name: 'quota-usage',
  up(db) {
    db.exec(`
      CREATE TABLE quota_usage (
        consumer_id  TEXT NOT NULL,
        period       TEXT NOT NULL,
        count        INTEGER NOT NULL CHECK (count >= 0),
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (consumer_id, period)
      ) STRICT;
    `);
  },
};

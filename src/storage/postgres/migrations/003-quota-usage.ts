import type { PoolClient } from 'pg';
import type { Migration } from '../../migration.js';

/** Quota usage per consumer and period, as in the SQLite migration of the same version. */
export const quotaUsage: Migration<PoolClient> = {
  version: 3,
  name: 'quota-usage',
  async up(db) {
    await db.query(`
      CREATE TABLE quota_usage (
        consumer_id  text COLLATE "C" NOT NULL,
        period       text COLLATE "C" NOT NULL,
        count        bigint NOT NULL CHECK (count >= 0),
        updated_at   timestamptz NOT NULL,
        PRIMARY KEY (consumer_id, period)
      );
    `);
  },
};

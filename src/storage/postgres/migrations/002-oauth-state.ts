import type { PoolClient } from 'pg';
import type { Migration } from '../../migration.js';

/**
 * The bundled OAuth server's state, as in the SQLite migration of the same version: one row per
 * (model, id), the payload as jsonb, lookup columns copied out of it so they can be indexed.
 */
export const oauthState: Migration<PoolClient> = {
  version: 2,
  name: 'oauth-state',
  async up(db) {
    await db.query(`
      CREATE TABLE oauth_state (
        model        text NOT NULL,
        id           text NOT NULL,
        payload      jsonb NOT NULL,
        grant_id     text,
        uid          text,
        user_code    text,
        expires_at   timestamptz,
        consumed_at  timestamptz,
        PRIMARY KEY (model, id)
      );
      CREATE INDEX oauth_state_by_grant ON oauth_state (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oauth_state_by_uid ON oauth_state (model, uid) WHERE uid IS NOT NULL;
      CREATE INDEX oauth_state_by_user_code ON oauth_state (model, user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX oauth_state_by_expiry ON oauth_state (expires_at) WHERE expires_at IS NOT NULL;
    `);
  },
};

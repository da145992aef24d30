import type { Database } from 'better-sqlite3';
import type { Migration } from '../../migration.js';

/**
 * The bundled OAuth server's state (tokens, grants, replay markers), one row per (model, id). The
 * lookup columns are copied out of the payload by the caller so they can be indexed; the partial
 * indexes stay small because most records have no uid or user code. `expires_at` is indexed for the
 * purge.
 */
export const oauthState: Migration<Database> = {
  version: 2,
  name: 'oauth-state',
  up(db) {
    db.exec(`
      CREATE TABLE oauth_state (
        model        TEXT NOT NULL,
        id           TEXT NOT NULL,
        payload      TEXT NOT NULL,
        grant_id     TEXT,
        uid          TEXT,
        user_code    TEXT,
        expires_at   INTEGER,
        consumed_at  INTEGER,
        PRIMARY KEY (model, id)
      ) STRICT;

      CREATE INDEX oauth_state_by_grant ON oauth_state (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oauth_state_by_uid ON oauth_state (model, uid) WHERE uid IS NOT NULL;
      CREATE INDEX oauth_state_by_user_code ON oauth_state (model, user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX oauth_state_by_expiry ON oauth_state (expires_at) WHERE expires_at IS NOT NULL;
    `);
  },
};

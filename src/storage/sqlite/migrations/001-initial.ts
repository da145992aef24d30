import type { Database } from 'better-sqlite3';
import type { Migration } from '../../migration.js';

/**
 * Consumers and credentials. Times are integer milliseconds since the epoch; tags, scopes and metadata
 * are JSON text (SQLite has no arrays; json_each filters on them). STRICT tables refuse a value of the
 * wrong type instead of silently storing it.
 */
export const initial: Migration<Database> = {
  version: 1,
  name: 'consumers-and-credentials',
  up(db) {
    db.exec(`
      CREATE TABLE consumers (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        tags        TEXT NOT NULL DEFAULT '[]',
        plan        TEXT,
        metadata    TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE credentials (
        id            TEXT PRIMARY KEY,
        consumer_id   TEXT NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
        type          TEXT NOT NULL CHECK (type IN ('api-key', 'hmac', 'basic', 'mtls')),
        label         TEXT NOT NULL DEFAULT '',
        lookup_id     TEXT NOT NULL,
        secret_hash   TEXT NOT NULL,
        scopes        TEXT NOT NULL DEFAULT '[]',
        expires_at    INTEGER,
        revoked_at    INTEGER,
        grace_until   INTEGER,
        last_used_at  INTEGER,
        metadata      TEXT NOT NULL DEFAULT '{}',
        created_at    INTEGER NOT NULL,
        UNIQUE (type, lookup_id)
      ) STRICT;

      CREATE INDEX credentials_by_consumer ON credentials (consumer_id, created_at);
    `);
  },
};

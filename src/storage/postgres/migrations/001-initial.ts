import type { PoolClient } from 'pg';
import type { Migration } from '../../migration.js';

/**
 * Consumers and credentials, as in the SQLite migration of the same version. `name` uses the "C"
 * collation so keyset pages sort byte-wise exactly like SQLite, whatever the database's locale.
 * Tags are a text[] with a GIN index for the tag filter; metadata is jsonb.
 */
export const initial: Migration<PoolClient> = {
  version: 1,
  name: 'consumers-and-credentials',
  async up(db) {
    await db.query(`
      CREATE TABLE consumers (
        id          text PRIMARY KEY,
        name        text COLLATE "C" NOT NULL UNIQUE,
        tags        text[] NOT NULL DEFAULT '{}',
        plan        text,
        metadata    jsonb NOT NULL DEFAULT '{}',
        created_at  timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL
      );
      CREATE INDEX consumers_by_tag ON consumers USING gin (tags);

      CREATE TABLE credentials (
        id            text PRIMARY KEY,
        consumer_id   text NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
        type          text NOT NULL CHECK (type IN ('api-key', 'hmac', 'basic', 'mtls')),
        label         text NOT NULL DEFAULT '',
        lookup_id     text NOT NULL,
        secret_hash   text NOT NULL,
        scopes        text[] NOT NULL DEFAULT '{}',
        expires_at    timestamptz,
        revoked_at    timestamptz,
        grace_until   timestamptz,
        last_used_at  timestamptz,
        metadata      jsonb NOT NULL DEFAULT '{}',
        created_at    timestamptz NOT NULL,
        UNIQUE (type, lookup_id)
      );
      CREATE INDEX credentials_by_consumer ON credentials (consumer_id, created_at);
    `);
  },
};

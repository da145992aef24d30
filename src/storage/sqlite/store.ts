import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { isStoreError, StoreError, unavailable } from '../errors.js';
import { UNAVAILABLE } from './errors.js';
import type { AuditRepository, ConsumerRepository, CredentialRepository, OAuthStateRepository, Store, UsageRepository } from '../types.js';
import { SqliteAudit } from './audit.js';
import { SqliteConsumers } from './consumers.js';
import { SqliteCredentials } from './credentials.js';
import { SqliteUsage } from './usage.js';
import { migrateSqlite } from './migrate.js';
import { SqliteOAuthState } from './oauth.js';
import { SQLITE_MIGRATIONS } from './migrations/index.js';

export interface SqliteStoreOptions {
  /** Database file (its folder is created), or ":memory:" for a private in-memory database. */
  path: string;
  /** How long a write waits for another process's lock before STORE_UNAVAILABLE. */
  busyTimeoutMs?: number;
}

/**
 * The embedded default: one file under the data directory, WAL mode so readers (every worker) never
 * block the writer. better-sqlite3 is synchronous; the async interface is kept so callers are written
 * once for every backend. Statements are prepared once per store and reused.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly consumers: ConsumerRepository;
  readonly credentials: CredentialRepository;
  readonly usage: UsageRepository;
  readonly audit: AuditRepository;
  readonly oauth: OAuthStateRepository;
  private readonly db: Database;
  private version: number;

  private constructor(db: Database, version: number) {
    this.db = db;
    this.version = version;
    this.consumers = new SqliteConsumers(db);
    this.credentials = new SqliteCredentials(db);
    this.usage = new SqliteUsage(db);
    this.audit = new SqliteAudit(db);
    this.oauth = new SqliteOAuthState(db);
  }

  /** Opens (creating the file and folder when needed) and migrates up. */
  static open(options: SqliteStoreOptions): SqliteStore {
    let db: Database | undefined;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      db = new BetterSqlite3(options.path);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; only a power loss may lose the last commits.
      db.pragma('synchronous = NORMAL');
      // Off by default in SQLite: without it the cascade from consumers to credentials would not happen.
      db.pragma('foreign_keys = ON');
      const version = migrateSqlite(db, SQLITE_MIGRATIONS);
      return new SqliteStore(db, version);
    } catch (err) {
      db?.close();
      if (isStoreError(err)) throw err;
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_') && !UNAVAILABLE.test(code)) {
        throw new StoreError('STORE_SCHEMA', 'sqlite store could not be migrated', err);
      }
      throw unavailable('sqlite', err);
    }
  }

  get journalMode(): string {
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  async schemaVersion(): Promise<number> {
    return this.version;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

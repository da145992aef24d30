import pg from 'pg';
import { isStoreError, unavailable } from '../errors.js';
import type { AuditRepository, ConsumerRepository, CredentialRepository, OAuthStateRepository, Store, UsageRepository } from '../types.js';
import { PostgresAudit } from './audit.js';
import { PostgresConsumers } from './consumers.js';
import { PostgresCredentials } from './credentials.js';
import { PostgresUsage } from './usage.js';
import { migratePostgres, quoteIdent } from './migrate.js';
import { PostgresOAuthState } from './oauth.js';
import { POSTGRES_MIGRATIONS } from './migrations/index.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Connections per process; several workers each hold their own pool. */
  poolSize?: number;
  /** Schema holding the tables (created when missing): lets tests, or two gateways, share one database. */
  schema?: string;
  /** How long to wait for a connection before STORE_UNAVAILABLE. */
  connectTimeoutMs?: number;
  /** Told about errors on idle connections (server restart, network drop); the pool replaces them. */
  onError?: (err: Error) => void;
}

/**
 * The shared backend for several gateway processes or machines. Every query goes through the pool;
 * the schema is pinned with the connection's search_path, so statements name tables unqualified and
 * read the same as SQLite's.
 */
export class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  readonly consumers: ConsumerRepository;
  readonly credentials: CredentialRepository;
  readonly usage: UsageRepository;
  readonly audit: AuditRepository;
  readonly oauth: OAuthStateRepository;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly version: number;
  private closed = false;

  private constructor(pool: pg.Pool, schema: string, version: number) {
    this.pool = pool;
    this.schema = schema;
    this.version = version;
    this.consumers = new PostgresConsumers(pool);
    this.credentials = new PostgresCredentials(pool);
    this.usage = new PostgresUsage(pool);
    this.audit = new PostgresAudit(pool);
    this.oauth = new PostgresOAuthState(pool);
  }

  /** Connects and migrates up. STORE_UNAVAILABLE when the server cannot be reached. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? 'public';
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      options: `-c search_path=${quoteIdent(schema)}`,
      application_name: 'portcullis',
    });
    // An idle connection dropped by the server emits 'error' on the pool; unhandled, it would end the process.
    pool.on('error', (err) => options.onError?.(err));
    try {
      const version = await migratePostgres(pool, schema, POSTGRES_MIGRATIONS);
      return new PostgresStore(pool, schema, version);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw isStoreError(err) ? err : unavailable('postgres', err);
    }
  }

  async schemaVersion(): Promise<number> {
    return this.version;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

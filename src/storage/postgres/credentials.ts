import type pg from 'pg';
import { notFound, type ErrorSubject } from '../errors.js';
import type { Credential, CredentialRepository, CredentialType, NewCredential } from '../types.js';
import { checkDate, checkIdBatch, checkNewCredential, newId } from '../validate.js';
import { guard } from './errors.js';
import { toCredential, type CredentialRow } from './rows.js';

const SUBJECT: ErrorSubject = { entity: 'credential', conflict: 'type and lookup id', reference: 'consumer' };

export class PostgresCredentials implements CredentialRepository {
  constructor(private readonly pool: pg.Pool) {}

  async create(input: NewCredential): Promise<Credential> {
    const c = checkNewCredential(input);
    const now = new Date();
    const id = newId('cred');
    await guard(SUBJECT, () =>
      this.pool.query(
        `INSERT INTO credentials (id, consumer_id, type, label, lookup_id, secret_hash, scopes, expires_at, metadata, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [id, c.consumerId, c.type, c.label, c.lookupId, c.secretHash, c.scopes, c.expiresAt, JSON.stringify(c.metadata), now],
      ),
    );
    return { id, ...c, revokedAt: null, graceUntil: null, lastUsedAt: null, createdAt: now };
  }

  async get(id: string): Promise<Credential | null> {
    const rows = await this.rows('SELECT * FROM credentials WHERE id = $1', [id]);
    return rows[0] ? toCredential(rows[0]) : null;
  }

  async findByLookup(type: CredentialType, lookupId: string): Promise<Credential | null> {
    const rows = await this.rows('SELECT * FROM credentials WHERE type = $1 AND lookup_id = $2', [type, lookupId]);
    return rows[0] ? toCredential(rows[0]) : null;
  }

  async listByConsumer(consumerId: string): Promise<Credential[]> {
    const rows = await this.rows('SELECT * FROM credentials WHERE consumer_id = $1 ORDER BY created_at, id', [consumerId]);
    return rows.map(toCredential);
  }

  async revoke(id: string, at: Date = new Date()): Promise<Credential> {
    const when = checkDate(at, 'at') ?? new Date();
    // COALESCE keeps the first revocation time: a second revoke must not extend anything.
    return this.changed('UPDATE credentials SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *', [when, id]);
  }

  async setGraceUntil(id: string, until: Date | null): Promise<Credential> {
    const when = checkDate(until, 'until');
    return this.changed('UPDATE credentials SET grace_until = $1 WHERE id = $2 RETURNING *', [when, id]);
  }

  async touchLastUsed(ids: readonly string[], at: Date = new Date()): Promise<number> {
    const batch = checkIdBatch(ids);
    const when = checkDate(at, 'at') ?? new Date();
    if (batch.length === 0) return 0;
    // One statement for the whole batch; `= ANY($2)` takes the ids as one array parameter.
    const result = await guard(SUBJECT, () =>
      this.pool.query(
        `UPDATE credentials SET last_used_at = $1
         WHERE id = ANY($2::text[]) AND (last_used_at IS NULL OR last_used_at < $1)`,
        [when, batch],
      ),
    );
    return result.rowCount ?? 0;
  }

  async delete(id: string): Promise<boolean> {
    const result = await guard(SUBJECT, () => this.pool.query('DELETE FROM credentials WHERE id = $1', [id]));
    return (result.rowCount ?? 0) > 0;
  }

  private async rows(sql: string, values: unknown[]): Promise<CredentialRow[]> {
    return (await guard(SUBJECT, () => this.pool.query<CredentialRow>(sql, values))).rows;
  }

  private async changed(sql: string, values: unknown[]): Promise<Credential> {
    const rows = await this.rows(sql, values);
    if (!rows[0]) throw notFound('credential');
    return toCredential(rows[0]);
  }
}

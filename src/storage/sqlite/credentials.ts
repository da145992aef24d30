import type { Database, Statement } from 'better-sqlite3';
import { notFound, type ErrorSubject } from '../errors.js';
import type { Credential, CredentialRepository, CredentialType, NewCredential } from '../types.js';
import { checkDate, checkIdBatch, checkNewCredential, newId } from '../validate.js';
import { guard } from './errors.js';
import { ms, toCredential, type CredentialRow } from './rows.js';

const SUBJECT: ErrorSubject = { entity: 'credential', conflict: 'type and lookup id', reference: 'consumer' };

export class SqliteCredentials implements CredentialRepository {
  private readonly insert: Statement;
  private readonly byId: Statement<[string], CredentialRow>;
  private readonly byLookup: Statement<[string, string], CredentialRow>;
  private readonly byConsumer: Statement<[string], CredentialRow>;
  private readonly revokeOne: Statement<[number, string]>;
  private readonly graceOne: Statement<[number | null, string]>;
  private readonly touch: Statement<[{ at: number; ids: string }]>;
  private readonly remove: Statement<[string]>;

  constructor(db: Database) {
    this.insert = db.prepare(
      `INSERT INTO credentials (id, consumer_id, type, label, lookup_id, secret_hash, scopes, expires_at, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.byId = db.prepare('SELECT * FROM credentials WHERE id = ?');
    this.byLookup = db.prepare('SELECT * FROM credentials WHERE type = ? AND lookup_id = ?');
    this.byConsumer = db.prepare('SELECT * FROM credentials WHERE consumer_id = ? ORDER BY created_at, id');
    // COALESCE keeps the first revocation time: a second revoke must not extend anything.
    this.revokeOne = db.prepare('UPDATE credentials SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?');
    this.graceOne = db.prepare('UPDATE credentials SET grace_until = ? WHERE id = ?');
    // The ids travel as one JSON array parameter, so any batch size is one prepared statement.
    this.touch = db.prepare(
      `UPDATE credentials SET last_used_at = @at
       WHERE id IN (SELECT value FROM json_each(@ids)) AND (last_used_at IS NULL OR last_used_at < @at)`,
    );
    this.remove = db.prepare('DELETE FROM credentials WHERE id = ?');
  }

  async create(input: NewCredential): Promise<Credential> {
    const c = checkNewCredential(input);
    const now = Date.now();
    const id = newId('cred');
    guard(SUBJECT, () =>
      this.insert.run(id, c.consumerId, c.type, c.label, c.lookupId, c.secretHash, JSON.stringify(c.scopes), ms(c.expiresAt), JSON.stringify(c.metadata), now),
    );
    return { id, ...c, revokedAt: null, graceUntil: null, lastUsedAt: null, createdAt: new Date(now) };
  }

  async get(id: string): Promise<Credential | null> {
    const row = guard(SUBJECT, () => this.byId.get(id));
    return row ? toCredential(row) : null;
  }

  async findByLookup(type: CredentialType, lookupId: string): Promise<Credential | null> {
    const row = guard(SUBJECT, () => this.byLookup.get(type, lookupId));
    return row ? toCredential(row) : null;
  }

  async listByConsumer(consumerId: string): Promise<Credential[]> {
    return guard(SUBJECT, () => this.byConsumer.all(consumerId)).map(toCredential);
  }

  async revoke(id: string, at: Date = new Date()): Promise<Credential> {
    const when = checkDate(at, 'at') ?? new Date();
    return this.changeThenRead(id, () => this.revokeOne.run(when.getTime(), id).changes);
  }

  async setGraceUntil(id: string, until: Date | null): Promise<Credential> {
    const when = checkDate(until, 'until');
    return this.changeThenRead(id, () => this.graceOne.run(ms(when), id).changes);
  }

  async touchLastUsed(ids: readonly string[], at: Date = new Date()): Promise<number> {
    const batch = checkIdBatch(ids);
    const when = checkDate(at, 'at') ?? new Date();
    if (batch.length === 0) return 0;
    return guard(SUBJECT, () => this.touch.run({ at: when.getTime(), ids: JSON.stringify(batch) }).changes);
  }

  async delete(id: string): Promise<boolean> {
    return guard(SUBJECT, () => this.remove.run(id)).changes > 0;
  }

  private changeThenRead(id: string, change: () => number): Credential {
    return guard(SUBJECT, () => {
      if (change() === 0) throw notFound('credential');
      return toCredential(this.byId.get(id)!);
    });
  }
}

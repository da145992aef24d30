import type { Database, Statement } from 'better-sqlite3';
import type { ErrorSubject } from '../errors.js';
import { checkAt, checkKey, checkModel, checkOAuthRecord } from '../oauth-validate.js';
import type { JsonObject, NewOAuthRecord, OAuthRecord, OAuthStateRepository } from '../types.js';
import { guard } from './errors.js';

const SUBJECT: ErrorSubject = { entity: 'oauth record', conflict: 'model and id' };

interface OAuthRow {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: number | null;
  consumed_at: number | null;
}

const date = (n: number | null): Date | null => (n === null ? null : new Date(n));

function toRecord(row: OAuthRow): OAuthRecord {
  return {
    model: row.model,
    id: row.id,
    payload: JSON.parse(row.payload) as JsonObject,
    grantId: row.grant_id,
    uid: row.uid,
    userCode: row.user_code,
    expiresAt: date(row.expires_at),
    consumedAt: date(row.consumed_at),
  };
}

/** A record counts only while unexpired: readers never see one past `expires_at`, purged or not. */
const LIVE = '(expires_at IS NULL OR expires_at > @at)';

export class SqliteOAuthState implements OAuthStateRepository {
  private readonly put: Statement;
  private readonly byId: Statement<[{ model: string; key: string; at: number }], OAuthRow>;
  private readonly byUid: Statement<[{ model: string; key: string; at: number }], OAuthRow>;
  private readonly byUserCode: Statement<[{ model: string; key: string; at: number }], OAuthRow>;
  private readonly consumeOne: Statement<[{ model: string; key: string; at: number }]>;
  private readonly destroyOne: Statement<[string, string]>;
  private readonly byGrant: Statement<[string]>;
  private readonly purge: Statement<[number]>;

  constructor(db: Database) {
    this.put = db.prepare(
      `INSERT INTO oauth_state (model, id, payload, grant_id, uid, user_code, expires_at, consumed_at)
       VALUES (@model, @id, @payload, @grantId, @uid, @userCode, @expiresAt, NULL)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
         user_code = excluded.user_code, expires_at = excluded.expires_at, consumed_at = NULL`,
    );
    this.byId = db.prepare(`SELECT * FROM oauth_state WHERE model = @model AND id = @key AND ${LIVE}`);
    this.byUid = db.prepare(`SELECT * FROM oauth_state WHERE model = @model AND uid = @key AND ${LIVE} LIMIT 1`);
    this.byUserCode = db.prepare(`SELECT * FROM oauth_state WHERE model = @model AND user_code = @key AND ${LIVE} LIMIT 1`);
    // COALESCE keeps the first consumption: a replayed one-time code must not look fresh.
    this.consumeOne = db.prepare(`UPDATE oauth_state SET consumed_at = COALESCE(consumed_at, @at) WHERE model = @model AND id = @key AND ${LIVE}`);
    this.destroyOne = db.prepare('DELETE FROM oauth_state WHERE model = ? AND id = ?');
    this.byGrant = db.prepare('DELETE FROM oauth_state WHERE grant_id = ?');
    this.purge = db.prepare('DELETE FROM oauth_state WHERE expires_at IS NOT NULL AND expires_at <= ?');
  }

  async upsert(record: NewOAuthRecord): Promise<void> {
    const r = checkOAuthRecord(record);
    guard(SUBJECT, () => this.put.run({ ...r, expiresAt: r.expiresAt === null ? null : r.expiresAt.getTime() }));
  }

  async find(model: string, id: string, at?: Date): Promise<OAuthRecord | null> {
    return this.one(this.byId, model, checkKey(id, 'id'), at);
  }

  async findByUid(model: string, uid: string, at?: Date): Promise<OAuthRecord | null> {
    return this.one(this.byUid, model, checkKey(uid, 'uid'), at);
  }

  async findByUserCode(model: string, userCode: string, at?: Date): Promise<OAuthRecord | null> {
    return this.one(this.byUserCode, model, checkKey(userCode, 'userCode'), at);
  }

  async consume(model: string, id: string, at?: Date): Promise<boolean> {
    const params = { model: checkModel(model), key: checkKey(id, 'id'), at: checkAt(at).getTime() };
    return guard(SUBJECT, () => this.consumeOne.run(params).changes > 0);
  }

  async destroy(model: string, id: string): Promise<boolean> {
    const [m, key] = [checkModel(model), checkKey(id, 'id')];
    return guard(SUBJECT, () => this.destroyOne.run(m, key).changes > 0);
  }

  async revokeByGrantId(grantId: string): Promise<number> {
    const key = checkKey(grantId, 'grantId');
    return guard(SUBJECT, () => this.byGrant.run(key).changes);
  }

  async purgeExpired(at?: Date): Promise<number> {
    const when = checkAt(at).getTime();
    return guard(SUBJECT, () => this.purge.run(when).changes);
  }

  private one(statement: SqliteOAuthState['byId'], model: string, key: string, at: Date | undefined): OAuthRecord | null {
    const params = { model: checkModel(model), key, at: checkAt(at).getTime() };
    const row = guard(SUBJECT, () => statement.get(params));
    return row === undefined ? null : toRecord(row);
  }
}

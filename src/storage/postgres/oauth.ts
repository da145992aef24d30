import type pg from 'pg';
import type { ErrorSubject } from '../errors.js';
import { checkAt, checkKey, checkModel, checkOAuthRecord } from '../oauth-validate.js';
import type { JsonObject, NewOAuthRecord, OAuthRecord, OAuthStateRepository } from '../types.js';
import { guard } from './errors.js';

const SUBJECT: ErrorSubject = { entity: 'oauth record', conflict: 'model and id' };

interface OAuthRow {
  model: string;
  id: string;
  payload: JsonObject;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
}

function toRecord(row: OAuthRow): OAuthRecord {
  return {
    model: row.model,
    id: row.id,
    payload: row.payload,
    grantId: row.grant_id,
    uid: row.uid,
    userCode: row.user_code,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}

/** A record counts only while unexpired: readers never see one past `expires_at`, purged or not. */
const LIVE = '(expires_at IS NULL OR expires_at > $3)';

export class PostgresOAuthState implements OAuthStateRepository {
  constructor(private readonly pool: pg.Pool) {}

  async upsert(record: NewOAuthRecord): Promise<void> {
    const r = checkOAuthRecord(record);
    await this.run(
      `INSERT INTO oauth_state (model, id, payload, grant_id, uid, user_code, expires_at, consumed_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, NULL)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
         user_code = excluded.user_code, expires_at = excluded.expires_at, consumed_at = NULL`,
      [r.model, r.id, r.payload, r.grantId, r.uid, r.userCode, r.expiresAt],
    );
  }

  async find(model: string, id: string, at?: Date): Promise<OAuthRecord | null> {
    return this.one('id', model, checkKey(id, 'id'), at);
  }

  async findByUid(model: string, uid: string, at?: Date): Promise<OAuthRecord | null> {
    return this.one('uid', model, checkKey(uid, 'uid'), at);
  }

  async findByUserCode(model: string, userCode: string, at?: Date): Promise<OAuthRecord | null> {
    return this.one('user_code', model, checkKey(userCode, 'userCode'), at);
  }

  async consume(model: string, id: string, at?: Date): Promise<boolean> {
    const values = [checkModel(model), checkKey(id, 'id'), checkAt(at)];
    // COALESCE keeps the first consumption: a replayed one-time code must not look fresh.
    const result = await this.run(`UPDATE oauth_state SET consumed_at = COALESCE(consumed_at, $3) WHERE model = $1 AND id = $2 AND ${LIVE}`, values);
    return (result.rowCount ?? 0) > 0;
  }

  async destroy(model: string, id: string): Promise<boolean> {
    const result = await this.run('DELETE FROM oauth_state WHERE model = $1 AND id = $2', [checkModel(model), checkKey(id, 'id')]);
    return (result.rowCount ?? 0) > 0;
  }

  async revokeByGrantId(grantId: string): Promise<number> {
    return (await this.run('DELETE FROM oauth_state WHERE grant_id = $1', [checkKey(grantId, 'grantId')])).rowCount ?? 0;
  }

  async purgeExpired(at?: Date): Promise<number> {
    return (await this.run('DELETE FROM oauth_state WHERE expires_at IS NOT NULL AND expires_at <= $1', [checkAt(at)])).rowCount ?? 0;
  }

  /** `column` is one of three literals above, never input. */
  private async one(column: 'id' | 'uid' | 'user_code', model: string, key: string, at: Date | undefined): Promise<OAuthRecord | null> {
    const values = [checkModel(model), key, checkAt(at)];
    const result = await this.run(`SELECT * FROM oauth_state WHERE model = $1 AND ${column} = $2 AND ${LIVE} LIMIT 1`, values);
    const row = result.rows[0] as OAuthRow | undefined;
    return row === undefined ? null : toRecord(row);
  }

  private run(sql: string, values: unknown[]): Promise<pg.QueryResult> {
    return guard(SUBJECT, () => this.pool.query(sql, values));
  }
}

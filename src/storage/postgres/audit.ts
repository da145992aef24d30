import type pg from 'pg';
import type { ErrorSubject } from '../errors.js';
import type { AuditHead, AuditQuery, AuditRepository, AuditRow, NewAuditRow } from '../audit-types.js';
import { checkAuditQuery } from '../audit-query.js';
import { guard, inTransaction } from './errors.js';

const SUBJECT: ErrorSubject = { entity: 'audit record', conflict: 'position' };

interface PgAuditRow {
  position: string;
  seq: string;
  ts: string;
  kind: string;
  actor: string | null;
  route: string | null;
  outcome: string;
  hash: string;
  body: string;
}

/** bigint columns arrive as strings (pg does not guess at precision); positions stay far below 2^53. */
function toRow(r: PgAuditRow): AuditRow {
  return { ...r, position: Number(r.position), seq: Number(r.seq), ts: Number(r.ts) };
}

/**
 * Audit rows in PostgreSQL. An append holds a transaction-scoped advisory lock per schema, so every
 * gateway sharing the database extends one chain; the lock is taken once per batch, not per record.
 */
export class PostgresAudit implements AuditRepository {
  constructor(private readonly pool: pg.Pool) {}

  async append(build: (head: AuditHead | null) => readonly NewAuditRow[]): Promise<AuditRow[]> {
    return inTransaction(this.pool, SUBJECT, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext('portcullis-audit:' || current_schema()))");
      const { rows } = await client.query<PgAuditRow>('SELECT * FROM audit_records ORDER BY position DESC LIMIT 1');
      const head = rows[0] === undefined ? null : toRow(rows[0]);
      const built = build(head === null ? null : { position: head.position, seq: head.seq, hash: head.hash });
      if (built.length === 0) return [];
      const first = (head?.position ?? 0) + 1;
      const out = built.map((row, i) => ({ ...row, position: first + i }));
      // One statement per batch: unnest turns the column arrays back into rows.
      await client.query(
        `INSERT INTO audit_records (position, seq, ts, kind, actor, route, outcome, hash, body)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
        [
          out.map((r) => r.position),
          out.map((r) => r.seq),
          out.map((r) => r.ts),
          out.map((r) => r.kind),
          out.map((r) => r.actor),
          out.map((r) => r.route),
          out.map((r) => r.outcome),
          out.map((r) => r.hash),
          out.map((r) => r.body),
        ],
      );
      return out;
    });
  }

  async head(): Promise<AuditHead | null> {
    const rows = await this.rows('SELECT * FROM audit_records ORDER BY position DESC LIMIT 1', []);
    return rows[0] === undefined ? null : { position: rows[0].position, seq: rows[0].seq, hash: rows[0].hash };
  }

  async list(query?: AuditQuery): Promise<AuditRow[]> {
    const q = checkAuditQuery(query);
    return this.rows(
      `SELECT * FROM audit_records
       WHERE position > $1
         AND ($2::bigint IS NULL OR ts >= $2) AND ($3::bigint IS NULL OR ts <= $3)
         AND ($4::text IS NULL OR actor = $4) AND ($5::text IS NULL OR route = $5)
         AND ($6::text IS NULL OR outcome = $6) AND ($7::text IS NULL OR kind = $7)
       ORDER BY position LIMIT $8`,
      [q.after, q.since, q.until, q.actor, q.route, q.outcome, q.kind, q.limit],
    );
  }

  async lastCheckpoint(maxPosition: number, maxTs: number): Promise<AuditRow | null> {
    const rows = await this.rows(
      `SELECT * FROM audit_records WHERE kind = 'checkpoint' AND position <= $1 AND ts <= $2 ORDER BY position DESC LIMIT 1`,
      [maxPosition, maxTs],
    );
    return rows[0] ?? null;
  }

  async count(): Promise<number> {
    const { rows } = await guard(SUBJECT, () => this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM audit_records'));
    return Number(rows[0]!.n);
  }

  async deleteBefore(position: number): Promise<number> {
    const result = await guard(SUBJECT, () => this.pool.query('DELETE FROM audit_records WHERE position < $1', [position]));
    return result.rowCount ?? 0;
  }

  private async rows(sql: string, values: unknown[]): Promise<AuditRow[]> {
    const { rows } = await guard(SUBJECT, () => this.pool.query<PgAuditRow>(sql, values));
    return rows.map(toRow);
  }
}

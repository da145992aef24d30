import type { Database, Statement } from 'better-sqlite3';
import type { ErrorSubject } from '../errors.js';
import type { AuditHead, AuditQuery, AuditRepository, AuditRow, NewAuditRow } from '../audit-types.js';
import { checkAuditQuery, type CheckedAuditQuery } from '../audit-query.js';
import { guard } from './errors.js';

const SUBJECT: ErrorSubject = { entity: 'audit record', conflict: 'position' };

/** Audit rows in SQLite. Appends run in an IMMEDIATE transaction: the write lock is the chain lock. */
export class SqliteAudit implements AuditRepository {
  private readonly insert: Statement;
  private readonly last: Statement<[], AuditRow>;
  private readonly page: Statement<[CheckedAuditQuery], AuditRow>;
  private readonly checkpoint: Statement<[{ maxPosition: number; maxTs: number }], AuditRow>;
  private readonly counter: Statement<[], { n: number }>;
  private readonly removeBefore: Statement<[number]>;
  private readonly appendTx: (build: (head: AuditHead | null) => readonly NewAuditRow[]) => AuditRow[];

  constructor(db: Database) {
    this.insert = db.prepare(
      'INSERT INTO audit_records (position, seq, ts, kind, actor, route, outcome, hash, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.last = db.prepare('SELECT * FROM audit_records ORDER BY position DESC LIMIT 1');
    this.page = db.prepare(
      `SELECT * FROM audit_records
       WHERE position > @after
         AND (@since IS NULL OR ts >= @since) AND (@until IS NULL OR ts <= @until)
         AND (@actor IS NULL OR actor = @actor) AND (@route IS NULL OR route = @route)
         AND (@outcome IS NULL OR outcome = @outcome) AND (@kind IS NULL OR kind = @kind)
       ORDER BY position LIMIT @limit`,
    );
    this.checkpoint = db.prepare(
      `SELECT * FROM audit_records WHERE kind = 'checkpoint' AND position <= @maxPosition AND ts <= @maxTs
       ORDER BY position DESC LIMIT 1`,
    );
    this.counter = db.prepare('SELECT COUNT(*) AS n FROM audit_records');
    this.removeBefore = db.prepare('DELETE FROM audit_records WHERE position < ?');
    const tx = db.transaction((build: (head: AuditHead | null) => readonly NewAuditRow[]) => {
      const head = this.last.get() ?? null;
      let position = head?.position ?? 0;
      const out: AuditRow[] = [];
      for (const row of build(head === null ? null : { position: head.position, seq: head.seq, hash: head.hash })) {
        position++;
        this.insert.run(position, row.seq, row.ts, row.kind, row.actor, row.route, row.outcome, row.hash, row.body);
        out.push({ ...row, position });
      }
      return out;
    });
    this.appendTx = (build) => tx.immediate(build);
  }

  async append(build: (head: AuditHead | null) => readonly NewAuditRow[]): Promise<AuditRow[]> {
    return guard(SUBJECT, () => this.appendTx(build));
  }

  async head(): Promise<AuditHead | null> {
    const row = guard(SUBJECT, () => this.last.get());
    return row === undefined ? null : { position: row.position, seq: row.seq, hash: row.hash };
  }

  async list(query?: AuditQuery): Promise<AuditRow[]> {
    const q = checkAuditQuery(query);
    return guard(SUBJECT, () => this.page.all(q));
  }

  async lastCheckpoint(maxPosition: number, maxTs: number): Promise<AuditRow | null> {
    return guard(SUBJECT, () => this.checkpoint.get({ maxPosition, maxTs })) ?? null;
  }

  async count(): Promise<number> {
    return guard(SUBJECT, () => this.counter.get()!.n);
  }

  async deleteBefore(position: number): Promise<number> {
    return guard(SUBJECT, () => this.removeBefore.run(position)).changes;
  }
}

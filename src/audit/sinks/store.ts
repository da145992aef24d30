import type { AuditRow, Store } from '../../storage/types.js';
import { toRow } from '../chain.js';
import type { AuditRecord } from '../record.js';
import type { RawRecord } from '../verify.js';
import { retentionCut, type AuditFilter, type AuditSink, type RetentionLimits } from './types.js';
import type { ChainHead } from '../chain.js';

const PAGE = 1000;

/** The filter columns must say what the hashed body says; otherwise export could be steered. */
function columnsAgree(row: AuditRow): boolean {
  try {
    const r = JSON.parse(row.body) as AuditRecord;
    return r.seq === row.seq && r.ts === row.ts && r.kind === row.kind && r.actor === row.actor && r.route === row.route && r.outcome === row.outcome && r.hash === row.hash;
  } catch {
    return false;
  }
}

/**
 * Records in the `Store` (SQLite or PostgreSQL, migration 004). The store's append transaction is
 * the chain lock. The store is opened lazily (it is the gateway's shared one), so constructing the
 * sink costs nothing when no record is ever written.
 */
export class StoreAuditSink implements AuditSink {
  readonly name = 'store' as const;

  constructor(private readonly store: () => Promise<Store>) {}

  async append(build: (head: ChainHead) => readonly AuditRecord[]): Promise<number> {
    const store = await this.store();
    const rows = await store.audit.append((head) => build(head === null ? null : { seq: head.seq, hash: head.hash }).map(toRow));
    return rows.length;
  }

  async *rows(filter: AuditFilter = {}): AsyncIterable<AuditRow> {
    const store = await this.store();
    let after = 0;
    for (;;) {
      const page = await store.audit.list({ ...filter, afterPosition: after, limit: PAGE });
      for (const row of page) yield row;
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.position;
    }
  }

  async *read(): AsyncIterable<RawRecord> {
    for await (const row of this.rows()) {
      yield { position: row.position, text: row.body, ...(columnsAgree(row) ? {} : { columnsChanged: true }) };
    }
  }

  async *query(filter: AuditFilter): AsyncIterable<AuditRecord> {
    for await (const row of this.rows(filter)) yield JSON.parse(row.body) as AuditRecord;
  }

  async retain(limits: RetentionLimits): Promise<number> {
    const store = await this.store();
    const head = await store.audit.head();
    if (head === null) return 0;
    const candidates: { position: number; ts: number }[] = [];
    if (limits.maxAgeMs !== undefined && limits.maxAgeMs > 0) {
      const c = await store.audit.lastCheckpoint(head.position, limits.now - limits.maxAgeMs);
      if (c !== null) candidates.push(c);
    }
    if (limits.maxRecords !== undefined && limits.maxRecords > 0) {
      const [c] = await store.audit.list({ kind: 'checkpoint', afterPosition: head.position - limits.maxRecords, limit: 1 });
      if (c !== undefined) candidates.push(c);
    }
    candidates.sort((a, b) => a.position - b.position);
    const cut = retentionCut(candidates, head.position, limits);
    return cut === undefined ? 0 : store.audit.deleteBefore(cut);
  }

  async close(): Promise<void> {}
}

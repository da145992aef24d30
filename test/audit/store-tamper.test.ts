import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonical, hashRecord, type AuditRecord } from '../../src/audit/record.js';
import { StoreAuditSink } from '../../src/audit/sinks/store.js';
import { verifyChain } from '../../src/audit/verify.js';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { newSigner, scratchDir, writeChain } from './helpers.js';

const scratch = scratchDir();
afterAll(() => scratch.remove());
const { signer } = newSigner();
let n = 0;
let path: string;
let store: SqliteStore;
let sink: StoreAuditSink;
let db: BetterSqlite3.Database;

const verify = () => verifyChain(sink.read(), signer.publicKey);
const body = (position: number) => (db.prepare('SELECT body FROM audit_records WHERE position = ?').get(position) as { body: string }).body;
const rehash = (r: AuditRecord): string => {
  const { hash: _drop, ...rest } = r;
  return canonical({ ...rest, hash: hashRecord(rest) });
};

// The attacker has the database file: a second connection changes rows under the running store.
beforeEach(async () => {
  path = join(scratch.dir, `store-${++n}.db`);
  store = SqliteStore.open({ path });
  sink = new StoreAuditSink(async () => store);
  await writeChain(sink, signer, 12, 4);
  db = new BetterSqlite3(path);
});
afterEach(async () => {
  db.close();
  await store.close();
});

describe('audit verify on the SQLite store', () => {
  it('passes an untouched chain', async () => {
    expect(await verify()).toMatchObject({ ok: true, records: 15, checkpoints: 3, lastSeq: 15 });
  });

  it('names a record whose body was modified', async () => {
    db.prepare('UPDATE audit_records SET body = replace(body, ?, ?) WHERE position = 7').run('"outcome":"deny"', '"outcome":"allow"');
    expect((await verify()).problem).toMatchObject({ kind: 'modified', position: 7, seq: 7 });
  });

  it('names a record whose body was modified and rehashed', async () => {
    const changed = rehash({ ...(JSON.parse(body(7)) as AuditRecord), actor: 'nobody' });
    db.prepare('UPDATE audit_records SET body = ?, hash = ?, actor = ? WHERE position = 7').run(changed, (JSON.parse(changed) as AuditRecord).hash, 'nobody');
    expect((await verify()).problem).toMatchObject({ kind: 'modified', position: 7, seq: 7 });
  });

  it('names a row whose filter columns were changed to hide it from export', async () => {
    db.prepare("UPDATE audit_records SET actor = 'cons_innocent' WHERE position = 6").run();
    expect((await verify()).problem).toMatchObject({ kind: 'modified', position: 6, seq: 6 });
  });

  it('names a deleted row', async () => {
    db.prepare('DELETE FROM audit_records WHERE position = 8').run();
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', position: 9, seq: 8 });
  });

  it('names an inserted row, placed by shifting the rows after it', async () => {
    // Positions are the primary key: move rows 8.. out of the way (through negatives), then insert.
    db.prepare('UPDATE audit_records SET position = -(position + 1) WHERE position >= 8').run();
    db.prepare('UPDATE audit_records SET position = -position WHERE position < 0').run();
    const prev = JSON.parse(body(7)) as AuditRecord;
    const forged = rehash({ ...prev, seq: 8, prev: prev.hash, reason: 'forged' });
    db.prepare('INSERT INTO audit_records (position, seq, ts, kind, actor, route, outcome, hash, body) VALUES (8, 8, ?, ?, ?, ?, ?, ?, ?)').run(
      prev.ts, prev.kind, prev.actor, prev.route, prev.outcome, (JSON.parse(forged) as AuditRecord).hash, forged,
    );
    expect((await verify()).problem).toMatchObject({ kind: 'inserted', position: 8, seq: 8 });
  });

  it('names reordered rows', async () => {
    db.prepare('UPDATE audit_records SET position = -1 WHERE position = 8').run();
    db.prepare('UPDATE audit_records SET position = 8 WHERE position = 9').run();
    db.prepare('UPDATE audit_records SET position = 9 WHERE position = -1').run();
    expect((await verify()).problem).toMatchObject({ kind: 'reordered', position: 8, seq: 9 });
  });
});

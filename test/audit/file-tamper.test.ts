import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { hashRecord, unhashed, canonical, type AuditRecord } from '../../src/audit/record.js';
import { FileAuditSink } from '../../src/audit/sinks/file.js';
import { verifyChain } from '../../src/audit/verify.js';
import { newSigner, scratchDir, writeChain } from './helpers.js';

const scratch = scratchDir();
afterAll(() => scratch.remove());
const { signer } = newSigner();
let n = 0;
let sink: FileAuditSink;

const lines = () => readFileSync(sink.path, 'utf8').split('\n').filter((l) => l !== '');
const write = (ls: string[]) => writeFileSync(sink.path, ls.join('\n') + '\n');
const parse = (line: string) => JSON.parse(line) as AuditRecord;
/** A record changed and rehashed, so only its link to the next one can give it away. */
const rehash = (r: Omit<AuditRecord, 'hash'> & { hash?: string }): string => {
  const { hash: _drop, ...rest } = r;
  return canonical({ ...rest, hash: hashRecord(rest as Omit<AuditRecord, 'hash'>) });
};
const verify = () => verifyChain(sink.read(), signer.publicKey);

// 12 records with a checkpoint after every 4: lines 1-4, cp 5, 6-9, cp 10, 11-14, cp 15.
beforeEach(async () => {
  sink = new FileAuditSink(join(scratch.dir, `audit-${++n}.jsonl`));
  await writeChain(sink, signer, 12, 4);
});

describe('audit verify on the JSON-lines file', () => {
  it('passes an untouched chain and counts records and checkpoints', async () => {
    const result = await verify();
    expect(result).toMatchObject({ ok: true, records: 15, checkpoints: 3, firstSeq: 1, lastSeq: 15, anchored: false, unsignedTail: 0 });
    // Each record is one line of canonical JSON: sorted keys, no raw control characters.
    expect(lines()).toHaveLength(15);
  });

  it('names a modified record whose hash was left as it was', async () => {
    const ls = lines();
    ls[6] = ls[6]!.replace('"outcome":"deny"', '"outcome":"allow"');
    write(ls);
    expect((await verify()).problem).toMatchObject({ kind: 'modified', position: 7, seq: 7 });
  });

  it('names a modified record that was rehashed, through the next record\'s link', async () => {
    const ls = lines();
    ls[6] = rehash({ ...parse(ls[6]!), actor: 'someone-else' });
    write(ls);
    expect((await verify()).problem).toMatchObject({ kind: 'modified', position: 7, seq: 7 });
  });

  it('catches a rewrite that rehashed every later record at the next signed checkpoint', async () => {
    const ls = lines();
    let prev = parse(ls[5]!).hash;
    for (let i = 6; i < ls.length; i++) {
      const r = parse(ls[i]!);
      const changed = i === 6 ? { ...r, reason: 'nothing happened' } : r;
      ls[i] = rehash({ ...changed, prev });
      prev = parse(ls[i]!).hash;
    }
    write(ls);
    expect((await verify()).problem).toMatchObject({ kind: 'modified', position: 10, seq: 10 });
    expect((await verify()).problem?.message).toContain('after seq 5');
  });

  it('names a deleted record, and records missing from the start', async () => {
    const ls = lines();
    write([...ls.slice(0, 7), ...ls.slice(8)]);
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', position: 8, seq: 8 });
    write(ls.slice(2));
    expect((await verify()).problem).toMatchObject({ kind: 'deleted', seq: 1 });
  });

  it('names an inserted record, forged with a repeated seq or a fresh one', async () => {
    const ls = lines();
    const before = parse(ls[6]!);
    const forged = rehash({ ...before, seq: 8, prev: before.hash, reason: 'forged' });
    write([...ls.slice(0, 7), forged, ...ls.slice(7)]);
    expect((await verify()).problem).toMatchObject({ kind: 'inserted', position: 8, seq: 8 });
    const fresh = rehash({ ...before, seq: 999, prev: 'f'.repeat(64) });
    write([...ls.slice(0, 7), fresh, ...ls.slice(7)]);
    expect((await verify()).problem).toMatchObject({ kind: 'inserted', position: 8, seq: 999 });
  });

  it('names reordered records', async () => {
    const ls = lines();
    [ls[7], ls[8]] = [ls[8]!, ls[7]!];
    write(ls);
    expect((await verify()).problem).toMatchObject({ kind: 'reordered', position: 8, seq: 9 });
  });

  it('refuses a checkpoint signed by another key, and a line that is not a record', async () => {
    const other = newSigner().signer;
    expect((await verifyChain(sink.read(), other.publicKey)).problem).toMatchObject({ kind: 'modified', seq: 5 });
    const ls = lines();
    ls[2] = 'not json';
    write(ls);
    expect((await verify()).problem).toMatchObject({ kind: 'malformed', position: 3 });
  });

  it('ignores a last line cut short by a crash, and the next append cuts it off and links on', async () => {
    writeFileSync(sink.path, readFileSync(sink.path, 'utf8') + '{"v":1,"seq":16,"tr');
    expect(await verify()).toMatchObject({ ok: true, tornTail: true, lastSeq: 15 });
    const fresh = new FileAuditSink(sink.path);
    await writeChain(fresh, signer, 2, 2);
    expect(await verifyChain(fresh.read(), signer.publicKey)).toMatchObject({ ok: true, tornTail: false, lastSeq: 18 });
  });

  it('keeps client text such as CR, LF and ANSI escapes inside one line', async () => {
    const { extendChain } = await import('../../src/audit/chain.js');
    const { entry } = await import('./helpers.js');
    await sink.append((head) => extendChain(head, [entry(99, { target: 'GET /a\r\n{"forged":true}\u001b[31m' })]));
    const ls = lines();
    expect(ls).toHaveLength(16);
    expect(ls[15]).not.toMatch(/[\r\u001b]/);
    expect(parse(ls[15]!).target).toBe('GET /a\r\n{"forged":true}\u001b[31m');
    expect((await verify()).ok).toBe(true);
  });
});

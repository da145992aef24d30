import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, renameSync, ftruncateSync, writeSync, createReadStream, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { lock, lockSync, type LockOptions } from 'proper-lockfile';
import type { ChainHead } from '../chain.js';
import { encodeRecord, type AuditRecord } from '../record.js';
import type { RawRecord } from '../verify.js';
import { matches, retentionCut, type AuditFilter, type AuditSink, type RetentionLimits } from './types.js';


/**
 * How old an unrefreshed lock must be before another writer takes it over. The lock is held only
 * for one synchronous append (milliseconds) and its holder refreshes it every half of this, so a
 * short value is safe; a long one leaves a gateway restarted after `kill -9` unable to write (and
 * its graceful shutdown waiting) until the dead writer's lock goes stale.
 */
const LOCK_STALE_MS = 3_000;
/** Records are at most a few KB; the head is found in the file's last 256 KB. */
const TAIL_BYTES = 256 * 1024;

/**
 * An append-only JSON-lines file, one canonical record per line. Every append takes an
 * inter-process lock (proper-lockfile: a lock directory with a heartbeat, so a lock left by a
 * `kill -9` goes stale and is taken over), so cluster workers and the CLI extend one chain.
 * The head is re-read only when the file grew since this process last wrote it.
 */
export class FileAuditSink implements AuditSink {
  readonly name = 'file' as const;
  private cached: { size: number; head: ChainHead } | undefined;

  constructor(
    readonly path: string,
    private readonly options: { fsync: boolean; onLockLost?: (err: Error) => void } = { fsync: false },
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /**
   * Runs `fn` holding the lock. The lock is tried synchronously first: with one writer (the usual
   * case) the whole append is one synchronous step, which a busy event loop cannot stretch out
   * (each asynchronous hop would wait a full loop turn under load). Only when another process holds
   * the lock does it wait, with retries.
   */
  private async locked<T>(fn: () => T): Promise<T> {
    const options: LockOptions = { realpath: false, stale: LOCK_STALE_MS, onCompromised: (err) => this.options.onLockLost?.(err) };
    let release: () => void | Promise<void>;
    try {
      release = lockSync(this.path, options);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ELOCKED') throw error;
      release = await lock(this.path, { ...options, retries: { retries: 200, factor: 1.2, minTimeout: 5, maxTimeout: 100 } });
    }
    try {
      return fn();
    } finally {
      try {
        await release();
      } catch {
        // the lock went stale and was taken over; the write itself is done
      }
    }
  }

  append(build: (head: ChainHead) => readonly AuditRecord[]): Promise<number> {
    return this.locked(() => {
      const fd = openSync(this.path, 'a+');
      try {
        const size = fstatSync(fd).size;
        const head = this.cached?.size === size ? this.cached.head : readHead(fd, size);
        const records = build(head);
        if (records.length === 0) return 0;
        const text = records.map((r) => encodeRecord(r) + '\n').join('');
        // One write per batch: a crash leaves whole lines before it and at most one torn line.
        writeSync(fd, text);
        if (this.options.fsync) fdatasyncSync(fd);
        const last = records[records.length - 1]!;
        this.cached = { size: fstatSync(fd).size, head: { seq: last.seq, hash: last.hash } };
        return records.length;
      } finally {
        closeSync(fd);
      }
    });
  }

  async *read(): AsyncIterable<RawRecord> {
    if (!existsSync(this.path)) return;
    let position = 0;
    let partial = '';
    for await (const chunk of createReadStream(this.path, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
      const lines = (partial + (chunk as string)).split('\n');
      partial = lines.pop()!;
      for (const text of lines) yield { position: ++position, text };
    }
    if (partial !== '') yield { position: ++position, text: partial, torn: true };
  }

  async *query(filter: AuditFilter): AsyncIterable<AuditRecord> {
    for await (const raw of this.read()) {
      if (raw.torn) continue;
      const record = JSON.parse(raw.text) as AuditRecord;
      if (matches(record, filter)) yield record;
    }
  }

  /** Under the lock from reading to renaming, so two workers retaining at once cannot cut twice. */
  async retain(limits: RetentionLimits): Promise<number> {
    if (!existsSync(this.path)) return 0;
    return this.locked(() => {
      const all = readAllLines(this.path);
      const checkpoints: { position: number; ts: number }[] = [];
      all.forEach((text, i) => {
        if (!text.includes('"kind":"checkpoint"')) return;
        const r = JSON.parse(text) as AuditRecord;
        if (r.kind === 'checkpoint') checkpoints.push({ position: i + 1, ts: r.ts });
      });
      const cut = retentionCut(checkpoints, all.length, limits);
      if (cut === undefined || cut <= 1) return 0;
      // Rewritten aside and renamed over: a crash leaves the old file or the new one, never half.
      const tmp = `${this.path}.retain`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, all.slice(cut - 1).join('\n') + '\n');
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      this.cached = undefined;
      return cut - 1;
    });
  }

  async close(): Promise<void> {}
}

function readAllLines(path: string): string[] {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(size);
    readSync(fd, buffer, 0, size, 0);
    const lines = buffer.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  } finally {
    closeSync(fd);
  }
}

/**
 * The last complete record of the file. A torn last line (the process died inside a write) is
 * cut off first, under the lock, so the chain goes on from the last whole record.
 */
function readHead(fd: number, size: number): ChainHead {
  if (size === 0) return null;
  const start = Math.max(0, size - TAIL_BYTES);
  const buffer = Buffer.alloc(size - start);
  readSync(fd, buffer, 0, buffer.length, start);
  let end = buffer.length;
  if (buffer[end - 1] !== 0x0a) {
    const lastNewline = buffer.lastIndexOf(0x0a);
    ftruncateSync(fd, start + lastNewline + 1);
    end = lastNewline + 1;
    if (end === 0) return null;
  }
  const from = buffer.lastIndexOf(0x0a, end - 2) + 1;
  const record = JSON.parse(buffer.subarray(from, end - 1).toString('utf8')) as AuditRecord;
  return { seq: record.seq, hash: record.hash };
}

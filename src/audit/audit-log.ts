import type { Logger } from 'pino';
import type { RequestContext } from '../core/context.js';
import { decisionEntries, type DecisionFilter } from './entries.js';
import { checkpointRecord, extendChain, type ChainHead } from './chain.js';
import type { AuditEntry, AuditRecord } from './record.js';
import type { CheckpointSigner } from './signer.js';
import type { AuditSink, RetentionLimits } from './sinks/types.js';

export interface AuditLogOptions {
  readonly flushIntervalMs: number;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly retention: Omit<RetentionLimits, 'now'> & { readonly checkIntervalMs: number };
  readonly include: DecisionFilter;
}

export interface AuditLogDeps {
  readonly logger: Logger;
  readonly now: () => number;
  /** Told how many records were dropped because the queue was full. */
  readonly onDropped?: (count: number) => void;
}

/**
 * Collects audit entries in memory and writes them in batches, off the request path: `record()`
 * only pushes an object; hashing, signing and writing happen on a timer (every `flushInterval`) or
 * as soon as a batch is full. So a crash loses at most the records of the last flush window.
 * A sink that fails keeps its entries queued (bounded by maxQueue) and is tried again.
 */
export class AuditLog {
  private queue: AuditEntry[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly retentionTimer: NodeJS.Timeout | undefined;
  private sinceCheckpoint = 0;
  private lastCheckpointAt: number;
  private scheduled = false;
  private closed = false;
  written = 0;
  dropped = 0;

  constructor(
    readonly sink: AuditSink,
    private readonly signer: CheckpointSigner,
    private readonly options: AuditLogOptions,
    private readonly deps: AuditLogDeps,
  ) {
    this.lastCheckpointAt = deps.now();
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
    const { maxAgeMs, maxRecords, checkIntervalMs } = options.retention;
    if ((maxAgeMs ?? 0) > 0 || (maxRecords ?? 0) > 0) {
      this.retentionTimer = setInterval(() => void this.retain(), checkIntervalMs);
      this.retentionTimer.unref();
    }
  }

  /** Queues the request's security decisions, if it had any (finishRequest calls this for every request). */
  observe(ctx: RequestContext): void {
    const before = this.queue.length;
    decisionEntries(ctx, this.deps.now(), this.options.include, this.queue);
    if (this.queue.length !== before) this.record(undefined);
  }

  /** Queues one entry. Never throws, never waits: safe on the request path. */
  record(entry: AuditEntry | undefined): void {
    if (this.closed) return;
    if (entry !== undefined) this.queue.push(entry);
    if (this.queue.length > this.options.maxQueue) this.drop(this.queue.length - this.options.maxQueue);
    if (this.queue.length >= this.options.maxBatch && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
  }

  private drop(count: number): void {
    this.queue.splice(0, count);
    this.dropped += count;
    this.deps.onDropped?.(count);
    this.deps.logger.error({ dropped: count }, 'audit queue full: oldest records dropped');
  }

  /** Writes everything queued; one flush at a time, later calls wait for it and go on. */
  flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing.then(() => (this.queue.length > 0 ? this.flush() : undefined));
    if (this.queue.length === 0 && !this.checkpointDue(0)) return Promise.resolve();
    this.flushing = this.writeQueued().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private checkpointDue(adding: number): boolean {
    const pending = this.sinceCheckpoint + adding;
    if (pending === 0) return false;
    return pending >= this.options.checkpointEvery || this.deps.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs;
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0 || this.checkpointDue(0)) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      const due = this.checkpointDue(batch.length) || (this.closed && this.queue.length === 0);
      const now = this.deps.now();
      try {
        await this.sink.append((head: ChainHead) => {
          const records = extendChain(head, batch);
          if (!due) return records;
          const last = records[records.length - 1];
          const covered = last === undefined ? head : { seq: last.seq, hash: last.hash };
          return [...records, checkpointRecord(covered, this.signer, now)] as AuditRecord[];
        });
      } catch (error) {
        this.queue.unshift(...batch);
        if (this.queue.length > this.options.maxQueue) this.drop(this.queue.length - this.options.maxQueue);
        this.deps.logger.error({ err: error, queued: this.queue.length, sink: this.sink.name }, 'audit write failed; will retry');
        return;
      }
      this.written += batch.length;
      if (due) {
        this.sinceCheckpoint = 0;
        this.lastCheckpointAt = now;
      } else {
        this.sinceCheckpoint += batch.length;
      }
    }
  }

  async retain(): Promise<number> {
    try {
      const removed = await this.sink.retain({ ...this.options.retention, now: this.deps.now() });
      if (removed > 0) this.deps.logger.info({ removed, sink: this.sink.name }, 'audit retention removed old records');
      return removed;
    } catch (error) {
      this.deps.logger.error({ err: error }, 'audit retention failed');
      return 0;
    }
  }

  /** Writes what is queued and a final checkpoint, so a clean shutdown leaves nothing unsigned. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    this.closed = true;
    if (this.sinceCheckpoint > 0 || this.queue.length > 0) {
      this.sinceCheckpoint = Math.max(this.sinceCheckpoint, this.options.checkpointEvery);
      await this.flush();
    }
    await this.sink.close();
  }
}

import type { AuditQuery } from '../../storage/types.js';
import type { ChainHead } from '../chain.js';
import type { AuditRecord } from '../record.js';
import type { RawRecord } from '../verify.js';

/** What export may filter on (the store's query without paging); every bound is inclusive. */
export type AuditFilter = Omit<AuditQuery, 'afterPosition' | 'limit'>;

export interface RetentionLimits {
  /** Records older than this (ms) go, up to the last checkpoint before the cutoff. */
  maxAgeMs?: number;
  /** At most this many records stay (cut at a checkpoint, so somewhat fewer may stay). */
  maxRecords?: number;
  now: number;
}

/**
 * Where chained records are kept. `append` runs `build` under the sink's write lock with the
 * current head, so every writer (cluster workers, the CLI, other gateways on one database) extends
 * one chain. Retention only cuts at a signed checkpoint, which then anchors verification.
 */
export interface AuditSink {
  readonly name: 'file' | 'store';
  append(build: (head: ChainHead) => readonly AuditRecord[]): Promise<number>;
  /** Every stored record in storage order, as stored, for verification. */
  read(): AsyncIterable<RawRecord>;
  /** Stored records matching the filter, in storage order. */
  query(filter: AuditFilter): AsyncIterable<AuditRecord>;
  /** Removes old records up to a checkpoint; returns how many went. */
  retain(limits: RetentionLimits): Promise<number>;
  close(): Promise<void>;
}

export function matches(record: AuditRecord, filter: AuditFilter): boolean {
  return (
    (filter.since === undefined || record.ts >= filter.since) &&
    (filter.until === undefined || record.ts <= filter.until) &&
    (filter.actor === undefined || record.actor === filter.actor) &&
    (filter.route === undefined || record.route === filter.route) &&
    (filter.outcome === undefined || record.outcome === filter.outcome) &&
    (filter.kind === undefined || record.kind === filter.kind)
  );
}

/** The position to cut at: the later of the age and the size cut, or undefined for none. */
export function retentionCut(
  checkpoints: readonly { position: number; ts: number }[],
  lastPosition: number,
  limits: RetentionLimits,
): number | undefined {
  let cut: number | undefined;
  if (limits.maxAgeMs !== undefined && limits.maxAgeMs > 0) {
    const cutoff = limits.now - limits.maxAgeMs;
    for (const c of checkpoints) if (c.ts <= cutoff) cut = Math.max(cut ?? 0, c.position);
  }
  if (limits.maxRecords !== undefined && limits.maxRecords > 0) {
    const firstKept = lastPosition - limits.maxRecords + 1;
    const c = checkpoints.find((x) => x.position >= firstKept);
    if (c !== undefined) cut = Math.max(cut ?? 0, c.position);
  }
  return cut;
}

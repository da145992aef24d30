/**
 * The audit area of the `Store`: an append-only table of hash-chained records. The store keeps each
 * record's canonical text (`body`) exactly as it was hashed and never interprets it; the chain is
 * built and checked in src/audit/. A few fields are copied into columns only so export can filter.
 */

/** The last record appended: where the next batch links on. */
export interface AuditHead {
  /** Storage order, 1, 2, 3 ... assigned by the store. */
  readonly position: number;
  readonly seq: number;
  readonly hash: string;
}

/** One record as the chain built it, before the store gives it a position. */
export interface NewAuditRow {
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly ts: number;
  readonly kind: string;
  readonly actor: string | null;
  readonly route: string | null;
  readonly outcome: string;
  readonly hash: string;
  /** The canonical JSON the hash was computed over, plus the hash: what verification reads. */
  readonly body: string;
}

export interface AuditRow extends NewAuditRow {
  readonly position: number;
}

export interface AuditQuery {
  /** Rows after this position (keyset paging); from the start when absent. */
  afterPosition?: number;
  /** 1..10000; 1000 when absent. */
  limit?: number;
  /** Inclusive bounds on `ts`, milliseconds. */
  since?: number;
  until?: number;
  actor?: string;
  route?: string;
  outcome?: string;
  kind?: string;
}

export interface AuditRepository {
  /**
   * Appends in one transaction holding the audit write lock: `build` gets the current head (null
   * when empty) and returns the rows to add, so concurrent writers (workers, the CLI, other
   * gateways) extend one chain and never fork it. `build` must be synchronous and cheap.
   */
  append(build: (head: AuditHead | null) => readonly NewAuditRow[]): Promise<AuditRow[]>;
  head(): Promise<AuditHead | null>;
  /** In storage order. */
  list(query?: AuditQuery): Promise<AuditRow[]>;
  /** The highest-position checkpoint row at or before `maxPosition` whose ts is at most `maxTs`. */
  lastCheckpoint(maxPosition: number, maxTs: number): Promise<AuditRow | null>;
  count(): Promise<number>;
  /** Deletes every row before the position (retention); returns how many. */
  deleteBefore(position: number): Promise<number>;
}

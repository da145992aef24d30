import { hostname } from 'node:os';
import type { AuditHead, NewAuditRow } from '../storage/types.js';
import { encodeRecord, GENESIS, hashRecord, type AuditEntry, type AuditRecord } from './record.js';
import type { CheckpointSigner } from './signer.js';

/** Where a batch links on: the last record's seq and hash, or nothing for a new chain. */
export type ChainHead = Pick<AuditHead, 'seq' | 'hash'> | null;

/** Links entries onto the chain: seq counts on from the head, each record holds the previous hash. */
export function extendChain(head: ChainHead, entries: readonly AuditEntry[]): AuditRecord[] {
  let seq = head?.seq ?? 0;
  let prev = head?.hash ?? GENESIS;
  const out: AuditRecord[] = [];
  for (const entry of entries) {
    const record = link(entry, ++seq, prev);
    out.push(record);
    prev = record.hash;
  }
  return out;
}

function link(entry: AuditEntry, seq: number, prev: string, sig?: string): AuditRecord {
  const body = sig === undefined ? { v: 1 as const, ...entry, seq, prev } : { v: 1 as const, ...entry, seq, prev, sig };
  return { ...body, hash: hashRecord(body) };
}

/**
 * A signed checkpoint after the head: its signature covers its seq and `prev`, so it vouches for
 * every record before it; retention may cut the chain there and the checkpoint becomes the anchor.
 */
export function checkpointRecord(head: ChainHead, signer: CheckpointSigner, now: number): AuditRecord {
  const entry: AuditEntry = {
    ts: now,
    kind: 'checkpoint',
    action: 'chain.checkpoint',
    outcome: 'signed',
    actor: 'gateway',
    source: hostname(),
    target: null,
    route: null,
    policy: null,
    code: null,
    reason: null,
    requestId: null,
    detail: { keyId: signer.keyId, covers: head?.seq ?? 0 },
  };
  const unsigned = link(entry, (head?.seq ?? 0) + 1, head?.hash ?? GENESIS);
  return link(entry, unsigned.seq, unsigned.prev, signer.sign(unsigned));
}

/** The store row for a record: the canonical text plus the columns export filters on. */
export function toRow(record: AuditRecord): NewAuditRow {
  return {
    seq: record.seq,
    ts: record.ts,
    kind: record.kind,
    actor: record.actor,
    route: record.route,
    outcome: record.outcome,
    hash: record.hash,
    body: encodeRecord(record),
  };
}

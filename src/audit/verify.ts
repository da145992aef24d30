import type { KeyObject } from 'node:crypto';
import { GENESIS, hashRecord, unhashed, type AuditRecord } from './record.js';
import { verifyCheckpoint } from './signer.js';

/** One stored record as a sink hands it over: its place in storage and its text. */
export interface RawRecord {
  /** 1-based line of the file, or the row's position in the store. */
  readonly position: number;
  readonly text: string;
  /** The file's last line had no newline: a write cut short by a crash. */
  readonly torn?: boolean;
  /** A store row whose filter columns disagree with its body: counted as a modification. */
  readonly columnsChanged?: boolean;
}

export type TamperKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'malformed';

export interface TamperReport {
  readonly kind: TamperKind;
  /** Where the first bad record is (line or row position). */
  readonly position: number;
  /** Its sequence number, or the first missing one for `deleted`. */
  readonly seq: number | null;
  readonly message: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly records: number;
  readonly checkpoints: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** The chain starts at a signed checkpoint (older records were removed by retention). */
  readonly anchored: boolean;
  /** Records after the last signed checkpoint: linked, but nothing signed vouches for them yet. */
  readonly unsignedTail: number;
  /** The last line was cut short by a crash and ignored. */
  readonly tornTail: boolean;
  readonly problem?: TamperReport;
}

interface Item {
  readonly position: number;
  readonly record: AuditRecord | null;
  /** Its hash matches its content and, for a checkpoint, its signature verifies. */
  readonly valid: boolean;
  readonly torn: boolean;
}

function parse(raw: RawRecord, publicKey: KeyObject | undefined): Item {
  let record: AuditRecord | null = null;
  try {
    const value = JSON.parse(raw.text) as AuditRecord;
    if (value?.v === 1 && Number.isSafeInteger(value.seq) && typeof value.prev === 'string' && typeof value.hash === 'string') record = value;
  } catch {
    // malformed: reported by the caller
  }
  if (record === null) return { position: raw.position, record, valid: false, torn: raw.torn === true };
  let valid = raw.columnsChanged !== true && hashRecord(unhashed(record)) === record.hash;
  if (valid && record.kind === 'checkpoint' && publicKey !== undefined) valid = verifyCheckpoint(record, publicKey);
  return { position: raw.position, record, valid, torn: raw.torn === true };
}

/**
 * Walks a chain in storage order and names the first record that breaks it. Each record must hash
 * to its `hash`, link to the previous record's hash, and follow its seq; checkpoints must carry a
 * valid Ed25519 signature. When something breaks, the rest is read once to tell a modification from
 * a deletion, an insertion or a reordering. Without `publicKey` signatures are not checked.
 */
export async function verifyChain(source: AsyncIterable<RawRecord>, publicKey?: KeyObject): Promise<VerifyResult> {
  const iterator = source[Symbol.asyncIterator]();
  let records = 0;
  let checkpoints = 0;
  let firstSeq: number | null = null;
  let anchored = false;
  let previous: Item | null = null;
  let lastCheckpoint: Item | null = null;
  let sinceCheckpoint = 0;
  let tornTail = false;
  const result = (problem?: TamperReport): VerifyResult => ({
    ok: problem === undefined,
    records,
    checkpoints,
    firstSeq,
    lastSeq: previous?.record?.seq ?? null,
    anchored,
    unsignedTail: sinceCheckpoint,
    tornTail,
    ...(problem === undefined ? {} : { problem }),
  });
  for (;;) {
    const next = await iterator.next();
    if (next.done) return result();
    const item = parse(next.value, publicKey);
    const record = item.record;
    if (record === null) {
      if (item.torn) {
        tornTail = true;
        return result();
      }
      return result({ kind: 'malformed', position: item.position, seq: null, message: `line ${item.position} is not an audit record` });
    }
    const fine =
      previous === null
        ? item.valid && ((record.seq === 1 && record.prev === GENESIS) || record.kind === 'checkpoint')
        : item.valid && record.seq === previous.record!.seq + 1 && record.prev === previous.record!.hash;
    if (!fine) {
      const rest = [item];
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(parse(r.value, publicKey));
      return result(classify(previous, lastCheckpoint, rest, publicKey !== undefined));
    }
    if (previous === null) {
      firstSeq = record.seq;
      anchored = record.seq !== 1;
    }
    records++;
    sinceCheckpoint++;
    if (record.kind === 'checkpoint' && publicKey !== undefined) {
      checkpoints++;
      sinceCheckpoint = 0;
      lastCheckpoint = item;
    }
    previous = item;
  }
}

/** Names the first bad record, given the last good one and everything from the bad one on. */
function classify(previous: Item | null, lastCheckpoint: Item | null, rest: readonly Item[], signed: boolean): TamperReport {
  const item = rest[0]!;
  const r = item.record!;
  const at = (kind: TamperKind, target: Item, seq: number | null, message: string): TamperReport => ({ kind, position: target.position, seq, message });
  const later = rest.slice(1);
  const duplicated = later.some((x) => x.record?.seq === r.seq);
  if (previous === null) {
    if (!item.valid) return at('modified', item, r.seq, `record seq ${r.seq} does not match its hash or signature`);
    return at('deleted', item, 1, `the chain starts at seq ${r.seq}, which is not a signed checkpoint: the records before it are missing`);
  }
  const expected = previous.record!.seq + 1;
  const p = previous.record!;
  // Two records claim one place: the one the chain goes on from is genuine, the other inserted.
  if (r.seq === p.seq && item.valid && r.prev === p.prev && (later[0] === undefined || later[0].record?.prev === r.hash)) {
    return at('inserted', previous, p.seq, `record seq ${p.seq} at position ${previous.position} does not belong to the chain: the next records link past it`);
  }
  if (r.seq < expected || duplicated) return at('inserted', item, r.seq, `record seq ${r.seq} at position ${item.position} does not belong to the chain (seq repeats or goes back)`);
  if (r.seq === expected) {
    if (!item.valid && r.kind === 'checkpoint' && signed && hashRecord(unhashed(r)) === r.hash) {
      const from = lastCheckpoint?.record?.seq ?? 0;
      return at('modified', item, r.seq, `checkpoint seq ${r.seq} does not verify: the records after seq ${from} were changed and rehashed`);
    }
    if (!item.valid) return at('modified', item, r.seq, `record seq ${r.seq} does not match its hash${r.kind === 'checkpoint' ? ' or signature' : ''}`);
    return at('modified', previous, expected - 1, `record seq ${expected - 1} was changed: record seq ${r.seq} links to a different hash`);
  }
  const expectedLater = later.find((x) => x.record?.seq === expected);
  if (expectedLater === undefined) {
    const last = r.seq - 1;
    return at('deleted', item, expected, `record${last > expected ? `s seq ${expected}..${last} are` : ` seq ${expected} is`} missing before position ${item.position}`);
  }
  const linksToKnown = item.valid && later.some((x) => x.record?.hash === r.prev);
  if (linksToKnown) {
    return at('reordered', item, r.seq, `record seq ${r.seq} at position ${item.position} comes before seq ${expected} (position ${expectedLater.position})`);
  }
  return at('inserted', item, r.seq, `record seq ${r.seq} at position ${item.position} does not link to any record of the chain`);
}

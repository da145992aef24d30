import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointRecord, extendChain } from '../../src/audit/chain.js';
import type { AuditEntry, AuditRecord } from '../../src/audit/record.js';
import { CheckpointSigner } from '../../src/audit/signer.js';
import type { AuditSink } from '../../src/audit/sinks/types.js';

export const T0 = Date.UTC(2026, 0, 1);

/** A fresh Ed25519 key pair; the private key is also written as PEM for config-driven tests. */
export function newSigner(dir?: string): { signer: CheckpointSigner; pemPath: string | undefined } {
  const { privateKey } = generateKeyPairSync('ed25519');
  let pemPath: string | undefined;
  if (dir !== undefined) {
    pemPath = join(dir, 'audit-key.pem');
    writeFileSync(pemPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  }
  return { signer: new CheckpointSigner(privateKey, 'test-key'), pemPath };
}

export function entry(i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    ts: T0 + i * 60_000,
    kind: 'decision',
    action: 'request.deny',
    outcome: 'deny',
    actor: i % 2 === 0 ? 'cons_alice' : null,
    source: '203.0.113.7',
    target: `GET /orders/${i}`,
    route: i % 3 === 0 ? 'orders' : 'users',
    policy: 'authenticate',
    code: 'GW_AUTHN_INVALID',
    reason: 'bad key',
    requestId: `req-${i}`,
    detail: { status: 401 },
    ...extra,
  };
}

/** Writes `count` records in batches of `checkpointEvery`, each batch followed by a signed checkpoint. */
export async function writeChain(sink: AuditSink, signer: CheckpointSigner, count: number, checkpointEvery = 4): Promise<void> {
  for (let i = 1; i <= count; i += checkpointEvery) {
    const batch = Array.from({ length: Math.min(checkpointEvery, count - i + 1) }, (_, k) => entry(i + k));
    await sink.append((head) => {
      const records = extendChain(head, batch);
      const last = records[records.length - 1]!;
      return [...records, checkpointRecord({ seq: last.seq, hash: last.hash }, signer, last.ts)] as AuditRecord[];
    });
  }
}

export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

import type { LoadedConfig } from '../config/load.js';
import type { JsonObject, Store } from '../storage/types.js';
import { checkpointRecord, extendChain } from './chain.js';
import { changeEntry, cliActor } from './entries.js';
import { openAuditSink, openSigner } from './open.js';
import type { AuditEntry, AuditRecord } from './record.js';

/** A change an operator made through the CLI, to be audited once the command has succeeded. */
export interface ChangeNote {
  action: string;
  target: string;
  detail?: JsonObject;
}

/**
 * Writes the CLI's changes to the configured audit sink, followed at once by a signed checkpoint:
 * a CLI process is short-lived, so it leaves nothing unsigned behind. No-op when auditing is off.
 */
export async function auditChanges(loaded: LoadedConfig, store: () => Promise<Store>, notes: readonly ChangeNote[], now = Date.now()): Promise<void> {
  const config = loaded.config.audit;
  if (config === undefined || !config.enabled || notes.length === 0) return;
  const who = cliActor();
  const entries: AuditEntry[] = notes.map((n) => changeEntry('admin', who, n.action, n.target, 'success', now, n.detail ?? null));
  const signer = openSigner(config, loaded.dir);
  const sink = openAuditSink(config, loaded.dir, store);
  try {
    await sink.append((head) => {
      const records = extendChain(head, entries);
      const last = records[records.length - 1]!;
      return [...records, checkpointRecord({ seq: last.seq, hash: last.hash }, signer, now)] as AuditRecord[];
    });
  } finally {
    await sink.close();
  }
}

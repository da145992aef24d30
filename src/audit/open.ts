import { isAbsolute, resolve } from 'node:path';
import type { Logger } from 'pino';
import { parseDuration } from '../config/units.js';
import type { Store } from '../storage/types.js';
import { AuditLog } from './audit-log.js';
import { parseLongDuration, type AuditConfig } from './config.js';
import { CheckpointSigner } from './signer.js';
import { FileAuditSink } from './sinks/file.js';
import { StoreAuditSink } from './sinks/store.js';
import type { AuditSink } from './sinks/types.js';

export function resolvePath(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}

/** The sink the config names. The store is the gateway's own, opened on first write. */
export function openAuditSink(config: AuditConfig, dir: string, store: () => Promise<Store>, logger?: Logger): AuditSink {
  if (config.sink === 'store') return new StoreAuditSink(store);
  return new FileAuditSink(resolvePath(dir, config.file.path), {
    fsync: config.file.fsync,
    onLockLost: (err) => logger?.error({ err }, 'audit file lock lost'),
  });
}

export function openSigner(config: AuditConfig, dir: string): CheckpointSigner {
  if (config.signing.privateKey === '') throw new Error('audit.signing.privateKey is required when the audit log is enabled');
  return CheckpointSigner.fromFile(resolvePath(dir, config.signing.privateKey), config.signing.keyId);
}

/** The running audit log for an `audit` config section, or undefined when it is off. */
export function openAuditLog(
  config: AuditConfig | undefined,
  dir: string,
  deps: { store: () => Promise<Store>; logger: Logger; now: () => number; onDropped?: (n: number) => void },
): AuditLog | undefined {
  if (config === undefined || !config.enabled) return undefined;
  const maxAgeMs = parseLongDuration(config.retention.maxAge);
  return new AuditLog(
    openAuditSink(config, dir, deps.store, deps.logger),
    openSigner(config, dir),
    {
      flushIntervalMs: parseDuration(config.flushInterval),
      maxBatch: config.maxBatch,
      maxQueue: config.maxQueue,
      checkpointEvery: config.checkpoint.everyRecords,
      checkpointIntervalMs: parseDuration(config.checkpoint.interval),
      retention: { maxAgeMs, maxRecords: config.retention.maxRecords, checkIntervalMs: parseDuration(config.retention.checkInterval) },
      include: config.include,
    },
    { logger: deps.logger, now: deps.now, ...(deps.onDropped ? { onDropped: deps.onDropped } : {}) },
  );
}

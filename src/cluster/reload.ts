import { readFileSync } from 'node:fs';
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { ConfigError, formatIssue } from '../config/config-error.js';
import { loadConfigText, type LoadedConfig } from '../config/load.js';
import type { PrimaryMessage } from './protocol.js';

/** Reads and validates the config file; throws ConfigError with every located issue. */
export function readConfig(file: string): { text: string; loaded: LoadedConfig } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ file, line: undefined, column: undefined, field: '', message: `cannot read file (${reason})` }]);
  }
  return { text, loaded: loadConfigText(text, file) };
}

interface Pending {
  seq: number;
  startedAt: number;
  previous: string;
  waiting: Set<number>;
  applied: number;
  refused: number;
}

/**
 * Config reloads for the whole cluster. The primary validates the file once and sends the text it
 * validated, so every worker (and a worker restarted later) runs the same version, even if the
 * file changes again meanwhile. A bad file is logged once, here, and never reaches a worker.
 */
export class ClusterReload {
  private seq = 0;
  private pending: Pending | undefined;

  constructor(
    private readonly loaded: LoadedConfig,
    /** The config a starting worker receives: the latest one validated and sent. */
    public text: string,
    private readonly logger: Logger,
  ) {}

  request(trigger: string, workers: readonly Worker[]): void {
    const file = this.loaded.file;
    this.logger.info({ trigger }, 'config reload requested');
    let next: { text: string; loaded: LoadedConfig };
    try {
      next = readConfig(file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.logger.error({ trigger, issues: error.issues.map(formatIssue) }, 'config reload refused; the previous config keeps serving');
      return;
    }
    this.warnRestartOnly(next.loaded);
    const seq = ++this.seq;
    this.pending = { seq, startedAt: performance.now(), previous: this.text, waiting: new Set(), applied: 0, refused: 0 };
    this.text = next.text;
    const message: PrimaryMessage = { type: 'portcullis:reload', seq, file, text: next.text };
    for (const worker of workers) {
      if (!worker.isConnected()) continue;
      this.pending.waiting.add(worker.id);
      worker.send(message);
    }
    this.settle();
  }

  /** A worker's answer. */
  answered(worker: Worker, seq: number, ok: boolean): void {
    const pending = this.pending;
    if (pending === undefined || pending.seq !== seq || !pending.waiting.delete(worker.id)) return;
    if (ok) pending.applied++;
    else pending.refused++;
    this.settle();
  }

  /** A worker that exits no longer owes an answer. */
  gone(worker: Worker): void {
    if (this.pending?.waiting.delete(worker.id)) this.settle();
  }

  private settle(): void {
    const pending = this.pending;
    if (pending === undefined || pending.waiting.size > 0) return;
    this.pending = undefined;
    const fields = { seq: pending.seq, applied: pending.applied, refused: pending.refused, ms: Math.round(performance.now() - pending.startedAt) };
    if (pending.refused === 0) {
      this.logger.info(fields, 'config reloaded on all workers');
      return;
    }
    // The file passed validation but failed to compile in the workers (a policy refused its
    // config; their logs say why). They kept their config; so do workers started from now on.
    if (pending.applied === 0) this.text = pending.previous;
    this.logger.error(fields, 'workers refused the config; see their log lines');
  }

  private warnRestartOnly(next: LoadedConfig): void {
    const before = this.loaded.config;
    const after = next.config;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(before.server.listeners, after.server.listeners) || before.server.workers !== after.server.workers || !same(before.admin, after.admin)) {
      this.logger.warn('listener, worker and admin changes take effect on restart');
    }
  }
}

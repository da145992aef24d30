import { readFileSync } from 'node:fs';
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { ConfigError, formatIssue } from '../config/config-error.js';
import { compileCheck } from '../config/compile-check.js';
import { loadConfigText, type LoadedConfig } from '../config/load.js';
import { applyLogLevel } from '../observability/logger.js';
import type { PrimaryMessage } from './protocol.js';

/**
 * Reads, validates and compiles the config file (every policy's `create`, without binding
 * anything); throws ConfigError with every located issue.
 */
export async function readConfig(file: string): Promise<{ text: string; loaded: LoadedConfig }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ file, line: undefined, column: undefined, field: '', message: `cannot read file (${reason})` }]);
  }
  const loaded = loadConfigText(text, file);
  await compileCheck(loaded);
  return { text, loaded };
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
  /** Reloads run one after the other: a burst of triggers cannot interleave their reads. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly loaded: LoadedConfig,
    /** The config a starting worker receives: the latest one validated and sent. */
    public text: string,
    private readonly logger: Logger,
  ) {}

  /** Validates the file and, if it is good, sends it to the workers `workers()` returns then. */
  request(trigger: string, workers: () => readonly Worker[]): Promise<void> {
    this.queue = this.queue.then(() => this.run(trigger, workers));
    return this.queue;
  }

  private async run(trigger: string, workers: () => readonly Worker[]): Promise<void> {
    const file = this.loaded.file;
    this.logger.info({ trigger }, 'config reload requested');
    let next: { text: string; loaded: LoadedConfig };
    try {
      next = await readConfig(file);
    } catch (error) {
      const issues = error instanceof ConfigError ? error.issues.map(formatIssue) : [String(error)];
      this.logger.error({ trigger, issues }, 'config reload refused; the previous config keeps serving');
      return;
    }
    this.warnRestartOnly(next.loaded);
    applyLogLevel(this.logger, next.loaded.config.logging.level);
    const seq = ++this.seq;
    this.pending = { seq, startedAt: performance.now(), previous: this.text, waiting: new Set(), applied: 0, refused: 0 };
    this.text = next.text;
    const message: PrimaryMessage = { type: 'portcullis:reload', seq, file, text: next.text };
    for (const worker of workers()) {
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
    // The config compiled here but not in the workers (something in their environment differs;
    // their logs say what). They kept their config; so do workers started from now on.
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

import type { PolicyDeps } from '../../core/policy.js';
import type { Store } from '../../storage/types.js';

/**
 * Last-used times without a write per request: credential ids used since the last flush are
 * collected in a Set and written in one `touchLastUsed` every `intervalMs` (an unref'd timer, started
 * on first use) and on close. Precision is therefore `intervalMs`; a failed flush is logged and the
 * ids are kept for the next one.
 */
export class LastUsedRecorder {
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly store: () => Store | undefined,
    private readonly deps: Pick<PolicyDeps, 'logger' | 'now'>,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  record(credentialId: string): void {
    this.pending.add(credentialId);
    if (this.timer === undefined && this.intervalMs > 0) {
      this.timer = setInterval(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes what was collected, in one statement. Never throws. */
  async flush(): Promise<void> {
    await this.flushing;
    const store = this.store();
    if (this.pending.size === 0 || store === undefined) return;
    const ids = [...this.pending];
    this.pending = new Set();
    this.flushing = store.credentials.touchLastUsed(ids, new Date(this.deps.now())).then(
      () => undefined,
      (err: unknown) => {
        for (const id of ids) this.pending.add(id);
        this.deps.logger.warn({ err, credentials: ids.length }, 'api-key: last-used flush failed; retried at the next interval');
      },
    );
    await this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

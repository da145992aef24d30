import type { Worker } from 'node:cluster';
import type { PrimaryMessage } from './protocol.js';

const ANSWER_WITHIN_MS = 2_000;

interface Pending {
  waiting: Set<number>;
  keys: Map<string, object>;
  finish: () => void;
}

/**
 * The primary's phantom-token JWKS: every worker signs with its own signers (a `generate: true` key
 * differs per worker), so the admin listener asks each worker for its public keys over IPC and serves
 * the union, by kid. A worker that does not answer within 2 s is left out rather than holding the
 * answer; its tokens verify again once it answers a later fetch.
 */
export class ClusterJwks {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly send: (worker: Worker, message: PrimaryMessage) => void) {}

  collect(workers: readonly Worker[]): Promise<{ keys: object[] }> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      const entry: Pending = {
        waiting: new Set(workers.map((w) => w.id)),
        keys: new Map(),
        finish: () => {
          clearTimeout(timer);
          this.pending.delete(seq);
          resolve({ keys: [...entry.keys.values()] });
        },
      };
      const timer = setTimeout(entry.finish, ANSWER_WITHIN_MS);
      this.pending.set(seq, entry);
      if (entry.waiting.size === 0) return entry.finish();
      for (const worker of workers) this.send(worker, { type: 'portcullis:jwks-request', seq });
    });
  }

  answered(worker: Worker, seq: number, keys: readonly object[]): void {
    const entry = this.pending.get(seq);
    if (entry === undefined || !entry.waiting.delete(worker.id)) return;
    for (const key of keys) {
      const kid = (key as { kid?: unknown }).kid;
      if (typeof kid === 'string') entry.keys.set(kid, key);
    }
    if (entry.waiting.size === 0) entry.finish();
  }

  /** A worker that exited will not answer. */
  gone(worker: Worker): void {
    for (const entry of [...this.pending.values()]) {
      if (entry.waiting.delete(worker.id) && entry.waiting.size === 0) entry.finish();
    }
  }
}

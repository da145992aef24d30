import type { PolicyDeps } from '../core/policy.js';

/** StateStore channel carrying the id of every revoked, rotated or changed credential (CLI and admin API publish). */
export const CREDENTIALS_CHANNEL = 'portcullis:credentials';

/** A failed subscription (Redis down) is retried at most this often; cache TTLs bound staleness meanwhile. */
const SUBSCRIBE_RETRY_MS = 30_000;

/**
 * Revocation broadcast for credential caches: subscribes lazily (on first use, so `create` does no
 * I/O) to `portcullis:credentials` and hands every message to `onRevoke`. `generation` moves on each
 * message, so a lookup that raced a revocation can tell, and must not cache what it found.
 */
export class RevocationFeed {
  generation = 0;
  closed = false;
  private subscription: Promise<void> | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private failedAt = -Infinity;

  constructor(
    private readonly deps: Pick<PolicyDeps, 'state' | 'now' | 'logger'>,
    private readonly method: string,
    private readonly onRevoke: (id: string) => void,
  ) {}

  /** Resolves once subscribed, or at once while a failed attempt is in its retry back-off. */
  ensureSubscribed(): Promise<void> {
    if (this.subscription !== undefined || this.deps.now() - this.failedAt < SUBSCRIBE_RETRY_MS) return this.subscription ?? Promise.resolve();
    this.subscription = this.deps
      .state()
      .then((state) =>
        state.subscribe(CREDENTIALS_CHANNEL, (message) => {
          this.generation += 1;
          this.onRevoke(message.trim());
        }),
      )
      .then(
        (off) => {
          if (this.closed) return void off().catch(() => undefined);
          this.unsubscribe = off;
        },
        (err: unknown) => {
          this.subscription = undefined;
          this.failedAt = this.deps.now();
          this.deps.logger.warn({ err }, `${this.method}: cannot subscribe to ${CREDENTIALS_CHANNEL}; revocations apply after the cache TTL`);
        },
      );
    return this.subscription;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.subscription;
    await this.unsubscribe?.().catch(() => undefined);
  }
}

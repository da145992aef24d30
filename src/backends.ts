import type { Logger } from 'pino';
import type { GatewayConfig } from './config/schema.js';
import { openStateStore } from './state/open.js';
import type { StateStore } from './state/types.js';
import { openStore } from './storage/open.js';
import type { Store } from './storage/types.js';

/**
 * The gateway's Store (consumers, credentials) and StateStore (caches, nonces, lockouts), opened on
 * first use and shared by every route and config snapshot of the process. Lazy, so a gateway whose
 * policies need neither never creates a database file or a Redis connection. Changing `storage` or
 * `state` takes a restart.
 */
export class Backends {
  private storePromise: Promise<Store> | undefined;
  private statePromise: Promise<StateStore> | undefined;

  constructor(
    private readonly config: Pick<GatewayConfig, 'storage' | 'state'>,
    private readonly configDir: string,
    private readonly logger: Logger,
  ) {}

  readonly store = (): Promise<Store> => {
    this.storePromise ??= openStore(this.config, this.configDir, {
      onError: (err) => this.logger.error({ err }, 'store connection error'),
    }).catch((error: unknown) => {
      this.storePromise = undefined; // a later request tries again
      throw error;
    });
    return this.storePromise;
  };

  readonly state = (): Promise<StateStore> => {
    this.statePromise ??= openStateStore(this.config, { onError: (err) => this.logger.warn({ err }, 'state store connection error') });
    return this.statePromise;
  };

  async close(): Promise<void> {
    const open = [this.storePromise, this.statePromise].filter((p) => p !== undefined);
    await Promise.allSettled(open.map(async (p) => (await p).close()));
  }
}

/** For offline compilation (`portcullis validate`): policies may keep these, never call them in `create`. */
export const OFFLINE_BACKENDS = {
  store: (): Promise<Store> => Promise.reject(new Error('no store while validating offline')),
  state: (): Promise<StateStore> => Promise.reject(new Error('no state store while validating offline')),
};

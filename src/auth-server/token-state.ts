import type { AdapterFactory } from 'oidc-provider';
import type { Logger } from 'pino';
import { parseDuration } from '../config/units.js';
import { openStore } from '../storage/open.js';
import type { Store } from '../storage/types.js';
import { createMemoryAdapter, MemoryAdapterState } from './memory-adapter.js';
import type { AuthServerConfig } from './schema.js';
import { createStoreAdapter } from './store-adapter.js';

const MEMORY_SWEEP_MS = 60_000;

/** Where oidc-provider keeps its records, and how to let go of it when the server stops. */
export interface TokenState {
  readonly adapter: AdapterFactory;
  /** "memory", "sqlite", "postgres", or "custom" for an adapter handed in. */
  readonly kind: string;
  close(): Promise<void>;
}

export interface TokenStateOptions {
  /** Relative SQLite paths resolve against this folder (the config file's). */
  dir: string;
  logger: Logger;
  /** Use this adapter as it is (tests, embedders); the server neither sweeps nor closes it. */
  adapter?: AdapterFactory | undefined;
  /** Use this Store instead of opening the configured one; the caller closes it. */
  store?: Store | undefined;
  now?: () => number;
}

/**
 * Opens the token state the config asks for. With a Store, expired records are purged at start and
 * every `storage.purgeInterval` (readers never see them anyway: the purge only reclaims space); a
 * failed purge is logged and retried at the next tick, never fatal. Throws a StoreError when the
 * configured Store cannot be opened, so the server refuses to start rather than forget tokens.
 */
export async function openTokenState(config: AuthServerConfig, options: TokenStateOptions): Promise<TokenState> {
  if (options.adapter !== undefined) return { adapter: options.adapter, kind: 'custom', close: async () => undefined };
  const { storage } = config;
  if (options.store === undefined && storage.backend === 'memory') {
    const state = new MemoryAdapterState({ maxEntries: config.state.maxEntries, ...(options.now ? { now: options.now } : {}) });
    const sweep = setInterval(() => state.sweep(), MEMORY_SWEEP_MS).unref();
    return { adapter: createMemoryAdapter(state), kind: 'memory', close: async () => clearInterval(sweep) };
  }
  const owned = options.store === undefined;
  const store =
    options.store ??
    (await openStore({ storage: { ...storage, backend: storage.backend as 'sqlite' | 'postgres' } }, options.dir, {
      onError: (err) => options.logger.warn({ component: 'auth-server', err }, 'auth server store connection error'),
    }));
  const purge = () =>
    store.oauth.purgeExpired(new Date((options.now ?? Date.now)())).then(
      (removed) => {
        if (removed > 0) options.logger.debug({ component: 'auth-server', removed }, 'expired OAuth records purged');
      },
      (err: unknown) => options.logger.warn({ component: 'auth-server', err }, 'purging expired OAuth records failed; retrying later'),
    );
  await purge();
  const timer = setInterval(() => void purge(), Math.max(1000, parseDuration(storage.purgeInterval))).unref();
  return {
    adapter: createStoreAdapter(store.oauth, options.now ? { now: options.now } : {}),
    kind: store.backend,
    async close() {
      clearInterval(timer);
      if (owned) await store.close();
    },
  };
}

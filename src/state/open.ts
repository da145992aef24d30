import type { StateConfig } from './config.js';
import { MemoryStateStore } from './memory.js';
import { RedisStateStore } from './redis.js';
import type { StateStore } from './types.js';

/** The `state` section; the cluster and sentinel fields may be left out (older callers, tests). */
type OpenableStateConfig = Omit<StateConfig, 'redis'> & {
  redis: Pick<StateConfig['redis'], 'url' | 'keyPrefix'> & Partial<StateConfig['redis']>;
};

/**
 * Opens the configured state store. For Redis it waits briefly for the first connection but never
 * fails: with Redis down the gateway still starts, operations reject with STATE_UNAVAILABLE, and the
 * client keeps reconnecting in the background.
 */
export async function openStateStore(
  config: { state?: OpenableStateConfig | undefined },
  options: { onError?: (err: Error) => void } = {},
): Promise<StateStore> {
  const state = config.state;
  if (state?.backend === 'redis') {
    const store = new RedisStateStore({
      url: state.redis.url,
      mode: state.redis.mode,
      nodes: state.redis.nodes,
      sentinels: state.redis.sentinels,
      sentinelName: state.redis.sentinelName,
      commandTimeoutMs: state.redis.commandTimeout,
      keyPrefix: state.redis.keyPrefix,
      ...(options.onError ? { onError: options.onError } : {}),
    });
    await store.ready();
    return store;
  }
  return new MemoryStateStore({ maxEntries: state?.memory.maxEntries ?? 100_000 });
}

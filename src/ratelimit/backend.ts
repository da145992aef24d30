import cluster from 'node:cluster';
import type { StateStore } from '../state/types.js';
import type { RedisStateStore } from '../state/redis.js';
import { MemoryLimiter } from './memory.js';
import { PrimaryLimiterClient } from './primary-client.js';
import { RedisLimiter } from './redis.js';
import type { LimiterBackend } from './types.js';

/**
 * One limiter per StateStore, so every route, policy and config snapshot of the process counts in
 * the same place (a reload keeps the counters):
 * - Redis state: RedisLimiter, shared by every worker and gateway.
 * - memory state in a cluster worker: the primary decides (PrimaryLimiterClient over IPC), so
 *   `server.workers: N` does not multiply the limit.
 * - memory state otherwise: MemoryLimiter, exact and synchronous.
 */
const limiters = new WeakMap<StateStore, LimiterBackend>();

export function limiterFor(state: StateStore, maxEntries = 100_000): LimiterBackend {
  let limiter = limiters.get(state);
  if (limiter === undefined) {
    if (state.backend === 'redis') limiter = new RedisLimiter(state as RedisStateStore);
    else if (cluster.isWorker && process.send !== undefined) limiter = PrimaryLimiterClient.shared();
    else limiter = new MemoryLimiter(maxEntries);
    limiters.set(state, limiter);
  }
  return limiter;
}

/** Worker processes sharing this machine's limits (the primary passes its count when forking). */
export function localWorkers(): number {
  const n = Number(process.env['PORTCULLIS_WORKERS']);
  return cluster.isWorker && Number.isInteger(n) && n > 0 ? n : 1;
}

import { JwksCache, type JwksOptions } from './jwks-cache.js';
import type { VerificationKey } from './keys.js';

/** What a route's verifier uses of a JWKS: the same surface as JwksCache, with `close` letting go of one share. */
export interface JwksKeys {
  readonly started: boolean;
  lookup(kid: string | undefined): readonly VerificationKey[];
  mayRefetch(): boolean;
  refresh(): Promise<void>;
  close(): void;
}

interface Entry {
  readonly cache: JwksCache;
  /** Each share's fetch listener (metrics); only the oldest live one is told, so a fetch counts once. */
  readonly listeners: Set<NonNullable<JwksOptions['onFetch']>>;
  shares: number;
}

/**
 * One JwksCache per JWKS source per process, shared by every route (and every verifier, such as
 * RFC 9701 introspection responses) that names the same source with the same settings: N routes
 * trusting one issuer make one fetch and hold one copy of its keys, and a config reload hands the
 * warm keys to the new routes (they take a share before the old ones let go). Sources are told
 * apart by everything that changes fetching (URIs, issuer, intervals, timeout) and by the clock, so
 * tests with their own fake clocks never share.
 */
const entries = new WeakMap<() => number, Map<string, Entry>>();

export function sharedJwks(options: JwksOptions): JwksKeys {
  const { jwksUri, discoveryUrl, issuer, refreshIntervalMs, minRefetchIntervalMs, timeoutMs } = options;
  const key = JSON.stringify([jwksUri, discoveryUrl, issuer, refreshIntervalMs, minRefetchIntervalMs, timeoutMs]);
  let byClock = entries.get(options.now);
  if (byClock === undefined) entries.set(options.now, (byClock = new Map()));
  let entry = byClock.get(key);
  if (entry === undefined) {
    const listeners = new Set<NonNullable<JwksOptions['onFetch']>>();
    const onFetch: JwksOptions['onFetch'] = (outcome) => listeners.values().next().value?.(outcome);
    entry = { cache: new JwksCache({ ...options, onFetch }), listeners, shares: 0 };
    byClock.set(key, entry);
  }
  const shared = entry;
  const listener = options.onFetch;
  if (listener !== undefined) shared.listeners.add(listener);
  shared.shares += 1;
  let closed = false;
  return {
    get started() {
      return shared.cache.started;
    },
    lookup: (kid) => shared.cache.lookup(kid),
    mayRefetch: () => !closed && shared.cache.mayRefetch(),
    refresh: () => (closed ? Promise.resolve() : shared.cache.refresh()),
    close() {
      if (closed) return;
      closed = true;
      if (listener !== undefined) shared.listeners.delete(listener);
      shared.shares -= 1;
      if (shared.shares > 0) return;
      shared.cache.close();
      if (byClock.get(key) === shared) byClock.delete(key);
    },
  };
}

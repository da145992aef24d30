/**
 * Fast shared state: caches, nonces, lockouts, counters, revocation broadcasts. Values are strings
 * and every key expires (no TTL-less keys, so nothing piles up forever). The memory backend serves
 * one process; Redis makes the same calls cluster-wide. Both pass test/state/contract.ts.
 */
export type MessageHandler = (message: string) => void;

export interface StateStore {
  readonly backend: 'memory' | 'redis';
  /** The value, or null when absent or expired. */
  get(key: string): Promise<string | null>;
  /**
   * The same read, answered synchronously, offered only by in-process backends (memory). Remote
   * backends leave it out. Hot paths that would otherwise turn a request asynchronous for one Map
   * lookup use it when present; it throws where `get` would reject.
   */
  getNow?(key: string): string | null;
  /** Sets the value, replacing any other, for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets only when absent; true when this call set it (a nonce seen for the first time). Atomic. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** True when a live key was removed. */
  delete(key: string): Promise<boolean>;
  /**
   * Adds one and returns the new count. The first increment starts a window of `ttlMs`; later ones
   * do not extend it, so "5 failures per minute" means per minute from the first failure. Atomic.
   */
  incr(key: string, ttlMs: number): Promise<number>;
  /** Delivers to every subscriber of the channel, in this process and (on Redis) in every other. */
  publish(channel: string, message: string): Promise<void>;
  /** Returns a function that removes this handler. A handler that throws is isolated from the others. */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

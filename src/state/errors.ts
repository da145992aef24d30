/**
 * Errors a StateStore throws. STATE_UNAVAILABLE is the one callers must plan for: the policy using
 * the state decides whether to fail open or closed. Messages never carry a URL or password.
 */
export type StateErrorCode =
  /** The backend cannot be reached (Redis down, connection lost, command timed out). */
  | 'STATE_UNAVAILABLE'
  /** A bad argument (TTL not a positive integer, incr on a non-number) or a closed store. */
  | 'STATE_INVALID';

export class StateError extends Error {
  readonly code: StateErrorCode;

  constructor(code: StateErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StateError';
    this.code = code;
  }
}

export function isStateError(value: unknown, code?: StateErrorCode): value is StateError {
  return value instanceof StateError && (code === undefined || value.code === code);
}

/** TTLs are whole milliseconds from 1 ms to 30 days: a zero or negative TTL would be a key that never expires in some backends. */
export function checkTtl(ttlMs: number): number {
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > 30 * 86_400_000) {
    throw new StateError('STATE_INVALID', 'ttlMs must be an integer from 1 to 2592000000');
  }
  return ttlMs;
}

export function checkKey(key: string, what = 'key'): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) throw new StateError('STATE_INVALID', `${what} must be a string of 1 to 1024 characters`);
  return key;
}

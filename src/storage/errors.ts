/**
 * Errors a `Store` throws. Callers branch on `code`, never on the message, and the message never
 * holds SQL or driver text (it may reach a log line an operator pastes into an issue, or a CLI user);
 * the driver's error stays on `cause` for the log.
 */
export type StoreErrorCode =
  /** A unique value is taken: consumer name, (credential type, lookup id). */
  | 'STORE_CONFLICT'
  /** The entity, or the consumer a credential refers to, does not exist. */
  | 'STORE_NOT_FOUND'
  /** The input breaks a rule the store checks (empty name, metadata not a JSON object, ...). */
  | 'STORE_INVALID'
  /** The backend cannot be reached or is busy: connection refused or lost, database locked, disk full. */
  | 'STORE_UNAVAILABLE'
  /** The database holds a newer schema than this build knows, or a migration failed. */
  | 'STORE_SCHEMA'
  /** Anything else the backend reported. */
  | 'STORE_FAILED';

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StoreError';
    this.code = code;
  }
}

export function isStoreError(value: unknown, code?: StoreErrorCode): value is StoreError {
  return value instanceof StoreError && (code === undefined || value.code === code);
}

/** What an operation was about, so a mapped error can say so without quoting the driver. */
export interface ErrorSubject {
  /** "consumer", "credential" */
  entity: string;
  /** Said on STORE_CONFLICT: which unique value was taken. */
  conflict?: string;
  /** Said on a foreign-key failure: what the row referred to. */
  reference?: string;
}

export function conflict(subject: ErrorSubject, cause: unknown): StoreError {
  return new StoreError('STORE_CONFLICT', `${subject.entity}: ${subject.conflict ?? 'a unique value'} is already taken`, cause);
}

export function notFound(entity: string, cause?: unknown): StoreError {
  return new StoreError('STORE_NOT_FOUND', `${entity} not found`, cause);
}

export function unavailable(backend: string, cause: unknown): StoreError {
  return new StoreError('STORE_UNAVAILABLE', `${backend} store is unavailable`, cause);
}

export function failed(backend: string, cause: unknown): StoreError {
  return new StoreError('STORE_FAILED', `${backend} store operation failed`, cause);
}

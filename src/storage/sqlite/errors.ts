import { conflict, failed, isStoreError, notFound, unavailable, type ErrorSubject, type StoreError } from '../errors.js';

/** Codes better-sqlite3 reports (SqliteError.code) that mean "try later", not "your input is wrong". */
export const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOMEM|CORRUPT|NOTADB|PROTOCOL)/;

/** Turns a driver error into a StoreError that says what failed without quoting SQL. */
export function mapSqliteError(err: unknown, subject: ErrorSubject): StoreError {
  if (isStoreError(err)) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return conflict(subject, err);
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return notFound(subject.reference ?? subject.entity, err);
    if (UNAVAILABLE.test(code)) return unavailable('sqlite', err);
  }
  return failed('sqlite', err);
}

/** Runs a synchronous statement and maps what it throws; callers see only StoreErrors. */
export function guard<T>(subject: ErrorSubject, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw mapSqliteError(err, subject);
  }
}

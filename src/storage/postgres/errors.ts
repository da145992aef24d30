import pg from 'pg';
import { conflict, failed, isStoreError, notFound, unavailable, type ErrorSubject, type StoreError } from '../errors.js';

/**
 * SQLSTATE classes that mean the server cannot serve us now (connection exceptions, shutdown,
 * too many connections, database missing), as opposed to a problem with this statement.
 */
const UNAVAILABLE_STATES = /^(08|57P0|53|3D000)/;

/** Turns a driver error into a StoreError that says what failed without quoting SQL. */
export function mapPgError(err: unknown, subject: ErrorSubject): StoreError {
  if (isStoreError(err)) return err;
  if (err instanceof pg.DatabaseError) {
    const state = err.code ?? '';
    if (state === '23505') return conflict(subject, err);
    if (state === '23503') return notFound(subject.reference ?? subject.entity, err);
    if (UNAVAILABLE_STATES.test(state)) return unavailable('postgres', err);
    return failed('postgres', err);
  }
  // Not a server answer: refused or dropped sockets, pool timeouts, "Connection terminated". Programming
  // errors (TypeError, RangeError) stay STORE_FAILED so they are not mistaken for an outage.
  if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError)) return unavailable('postgres', err);
  return failed('postgres', err);
}

/** Runs a query and maps what it throws; callers see only StoreErrors. */
export async function guard<T>(subject: ErrorSubject, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapPgError(err, subject);
  }
}

/** BEGIN ... COMMIT on one pooled connection; ROLLBACK on any error, and the connection goes back. */
export async function inTransaction<T>(pool: pg.Pool, subject: ErrorSubject, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return guard(subject, async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  });
}

import { StoreError } from './errors.js';
import type { NewOAuthRecord } from './types.js';
import { checkDate, jsonObjectText } from './validate.js';

/**
 * Checks for the OAuth state area, shared by every backend (as validate.ts is for the others), so
 * both refuse the same inputs with STORE_INVALID before any SQL runs.
 */

const MAX_MODEL = 64;
const MAX_KEY = 512;
/** oidc-provider payloads are a few hundred bytes; a grant with many resources stays far below this. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

function invalid(message: string): StoreError {
  return new StoreError('STORE_INVALID', message);
}

export function checkKey(value: unknown, what: string, max = MAX_KEY): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${what} must be a non-empty string`);
  if (value.length > max) throw invalid(`${what} is longer than ${max} characters`);
  // NUL is refused by PostgreSQL text columns; refusing it everywhere keeps the backends alike.
  if (value.includes('\u0000')) throw invalid(`${what} must not contain NUL`);
  return value;
}

export const checkModel = (model: unknown): string => checkKey(model, 'model', MAX_MODEL);

function optionalKey(value: unknown, what: string): string | null {
  return value === undefined || value === null ? null : checkKey(value, what);
}

export interface CheckedOAuthRecord {
  model: string;
  id: string;
  /** The payload as JSON text: what SQLite stores, and what PostgreSQL parses into jsonb. */
  payload: string;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  expiresAt: Date | null;
}

export function checkOAuthRecord(input: NewOAuthRecord): CheckedOAuthRecord {
  const text = jsonObjectText(input.payload, 'payload', MAX_PAYLOAD_BYTES);
  return {
    model: checkModel(input.model),
    id: checkKey(input.id, 'id'),
    payload: text,
    grantId: optionalKey(input.grantId, 'grantId'),
    uid: optionalKey(input.uid, 'uid'),
    userCode: optionalKey(input.userCode, 'userCode'),
    expiresAt: checkDate(input.expiresAt, 'expiresAt'),
  };
}

/** The clock of a read or a purge: now, or the Date given (tests, and callers with their own clock). */
export function checkAt(at: Date | undefined): Date {
  return checkDate(at, 'at') ?? new Date();
}

import { randomBytes } from 'node:crypto';
import { StoreError } from './errors.js';
import { CREDENTIAL_TYPES, type ConsumerPatch, type CredentialType, type JsonObject, type NewConsumer, type NewCredential } from './types.js';

/**
 * Checks shared by every backend, run before any SQL, so all backends refuse the same inputs with the
 * same code (the contract suite relies on it) and no backend depends on its own column limits.
 */

/** `cons_` / `cred_` + 128 random bits in base64url: unguessable, URL-safe, and its kind is visible. */
export function newId(prefix: 'cons' | 'cred'): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

const MAX_NAME = 200;
const MAX_TAG = 100;
const MAX_TAGS = 100;
const MAX_METADATA_BYTES = 64 * 1024;

function invalid(message: string): StoreError {
  return new StoreError('STORE_INVALID', message);
}

function checkText(value: unknown, what: string, max: number, allowEmpty = false): string {
  if (typeof value !== 'string') throw invalid(`${what} must be a string`);
  if (!allowEmpty && value.length === 0) throw invalid(`${what} must not be empty`);
  if (value.length > max) throw invalid(`${what} is longer than ${max} characters`);
  // NUL is refused by PostgreSQL text columns; refusing it everywhere keeps the backends alike.
  if (value.includes('\u0000')) throw invalid(`${what} must not contain NUL`);
  return value;
}

function checkStrings(values: unknown, what: string): string[] {
  if (!Array.isArray(values)) throw invalid(`${what} must be an array of strings`);
  if (values.length > MAX_TAGS) throw invalid(`${what} has more than ${MAX_TAGS} entries`);
  // Duplicates carry no meaning; dropping them keeps tag filters and comparisons simple.
  return [...new Set(values.map((v) => checkText(v, `each of ${what}`, MAX_TAG)))];
}

/** Metadata must survive JSON both ways unchanged: a plain object, no undefined, no NaN, bounded size. */
export function checkMetadata(value: unknown): JsonObject {
  return JSON.parse(jsonObjectText(value, 'metadata', MAX_METADATA_BYTES)) as JsonObject;
}

/** A plain JSON object as its JSON text, at most `maxBytes`, without NUL (which PostgreSQL refuses). */
export function jsonObjectText(value: unknown, what: string, maxBytes: number): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${what} must be a JSON object`);
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    throw invalid(`${what} must be serialisable as JSON`);
  }
  if (Buffer.byteLength(text) > maxBytes) throw invalid(`${what} is larger than ${maxBytes} bytes`);
  if (text.includes('\\u0000')) throw invalid(`${what} must not contain NUL`);
  return text;
}

function checkDate(value: unknown, what: string): Date | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalid(`${what} must be a valid Date or null`);
  return value;
}

export interface CheckedConsumer {
  name: string;
  tags: string[];
  plan: string | null;
  metadata: JsonObject;
}

export function checkNewConsumer(input: NewConsumer): CheckedConsumer {
  return {
    name: checkText(input.name, 'name', MAX_NAME),
    tags: checkStrings(input.tags ?? [], 'tags'),
    plan: input.plan === undefined || input.plan === null ? null : checkText(input.plan, 'plan', MAX_NAME),
    metadata: checkMetadata(input.metadata ?? {}),
  };
}

/** Applies a patch over the current values, checked as a whole. */
export function applyConsumerPatch(current: CheckedConsumer, patch: ConsumerPatch): CheckedConsumer {
  return checkNewConsumer({
    name: patch.name ?? current.name,
    tags: patch.tags ?? current.tags,
    plan: patch.plan === undefined ? current.plan : patch.plan,
    metadata: patch.metadata ?? current.metadata,
  });
}

export interface CheckedCredential {
  consumerId: string;
  type: CredentialType;
  label: string;
  lookupId: string;
  secretHash: string;
  scopes: string[];
  expiresAt: Date | null;
  metadata: JsonObject;
}

export function checkNewCredential(input: NewCredential): CheckedCredential {
  if (!(CREDENTIAL_TYPES as readonly string[]).includes(input.type)) throw invalid(`type must be one of ${CREDENTIAL_TYPES.join(', ')}`);
  return {
    consumerId: checkText(input.consumerId, 'consumerId', MAX_NAME),
    type: input.type,
    label: checkText(input.label ?? '', 'label', MAX_NAME, true),
    lookupId: checkText(input.lookupId, 'lookupId', MAX_NAME),
    secretHash: checkText(input.secretHash, 'secretHash', 1024),
    scopes: checkStrings(input.scopes ?? [], 'scopes'),
    expiresAt: checkDate(input.expiresAt, 'expiresAt'),
    metadata: checkMetadata(input.metadata ?? {}),
  };
}

export { checkDate };

export const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid(`limit must be an integer from 1 to ${MAX_PAGE}`);
  return limit;
}

/**
 * Pages are keyset pages ordered by name (unique), so a cursor is the last name seen: no OFFSET scan,
 * and a page never repeats or skips a consumer when others are added or deleted meanwhile. Encoded so
 * callers treat it as opaque.
 */
export function encodeCursor(lastName: string): string {
  return Buffer.from(JSON.stringify({ n: lastName })).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): string | null {
  if (cursor === undefined || cursor === null) return null;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { n?: unknown };
    if (typeof parsed.n === 'string') return parsed.n;
  } catch {
    // fall through: a bad cursor is the caller's mistake, said plainly
  }
  throw invalid('cursor is not one this store issued');
}

/** Ids for a batch touch: strings only, duplicates dropped, bounded so one statement stays one statement. */
export function checkIdBatch(ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) throw invalid('ids must be an array');
  if (ids.length > 10_000) throw invalid('at most 10000 ids per batch');
  return [...new Set(ids.filter((id) => typeof id === 'string'))];
}

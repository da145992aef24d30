import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { JsonObject } from '../storage/types.js';

/** What kind of event a record is about. */
export type AuditKind = 'decision' | 'admin' | 'config' | 'ban' | 'checkpoint';

/**
 * One audit event before it joins the chain: who, what, when, from where, which policy or rule,
 * outcome. Strings a client sent (path, reason) are kept as data, never interpreted; every sink
 * writes them through JSON, so they cannot forge a line.
 */
export interface AuditEntry {
  /** When, milliseconds since the epoch. */
  readonly ts: number;
  readonly kind: AuditKind;
  /** What happened: `request.deny`, `request.monitor`, `consumer.create`, `config.reload` ... */
  readonly action: string;
  /** `deny`, `monitor`, `error`, `success`, `failure`, `applied`, `rejected` ... */
  readonly outcome: string;
  /** Who: the consumer id or subject, `cli:<user>@<host>`, `gateway`; null for an anonymous client. */
  readonly actor: string | null;
  /** From where: the client IP, or the host a CLI command ran on. */
  readonly source: string | null;
  /** What it was done to: `GET /orders/7`, a consumer id, a key id, a config file. */
  readonly target: string | null;
  readonly route: string | null;
  /** Which policy decided, and its rule (the error code). */
  readonly policy: string | null;
  readonly code: string | null;
  readonly reason: string | null;
  readonly requestId: string | null;
  readonly detail: JsonObject | null;
}

/** An entry in the chain. `hash` = SHA-256 over the canonical encoding of every other field. */
export interface AuditRecord extends AuditEntry {
  readonly v: 1;
  readonly seq: number;
  /** The previous record's hash: GENESIS for the first record of a chain. */
  readonly prev: string;
  /** Ed25519 signature (base64url) of a checkpoint, over the canonical encoding without hash and sig. */
  readonly sig?: string;
  readonly hash: string;
}

export const GENESIS = '0'.repeat(64);

/** Client-sent strings are capped so one request cannot make a megabyte record. */
const MAX_TEXT = 1024;

export function clip(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}...` : value;
}

/**
 * RFC 8785 (JSON Canonicalization Scheme): sorted keys, no whitespace, ECMAScript number and string
 * forms. The same record always encodes to the same bytes, whichever sink stored it or how.
 */
export function canonical(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('audit record cannot be canonicalized');
  return text;
}

/** The record without hash (and, for signing, without sig). */
export function unhashed(record: AuditRecord, withSig = true): Omit<AuditRecord, 'hash'> {
  const { hash: _hash, sig, ...rest } = record;
  return withSig && sig !== undefined ? { ...rest, sig } : rest;
}

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonical(record)).digest('hex');
}

/** The text a sink stores: the canonical record including its hash (one JSON line, no raw newline). */
export function encodeRecord(record: AuditRecord): string {
  return canonical(record);
}

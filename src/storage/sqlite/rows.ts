import type { Consumer, Credential, CredentialType, JsonObject } from '../types.js';

/** Rows as SQLite returns them: times in epoch milliseconds, lists and objects as JSON text. */
export interface ConsumerRow {
  id: string;
  name: string;
  tags: string;
  plan: string | null;
  metadata: string;
  created_at: number;
  updated_at: number;
}

export interface CredentialRow {
  id: string;
  consumer_id: string;
  type: string;
  label: string;
  lookup_id: string;
  secret_hash: string;
  scopes: string;
  expires_at: number | null;
  revoked_at: number | null;
  grace_until: number | null;
  last_used_at: number | null;
  metadata: string;
  created_at: number;
}

export const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const date = (n: number | null): Date | null => (n === null ? null : new Date(n));

export function toConsumer(row: ConsumerRow): Consumer {
  return {
    id: row.id,
    name: row.name,
    tags: JSON.parse(row.tags) as string[],
    plan: row.plan,
    metadata: JSON.parse(row.metadata) as JsonObject,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export function toCredential(row: CredentialRow): Credential {
  return {
    id: row.id,
    consumerId: row.consumer_id,
    type: row.type as CredentialType,
    label: row.label,
    lookupId: row.lookup_id,
    secretHash: row.secret_hash,
    scopes: JSON.parse(row.scopes) as string[],
    expiresAt: date(row.expires_at),
    revokedAt: date(row.revoked_at),
    graceUntil: date(row.grace_until),
    lastUsedAt: date(row.last_used_at),
    metadata: JSON.parse(row.metadata) as JsonObject,
    createdAt: new Date(row.created_at),
  };
}

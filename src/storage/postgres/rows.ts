import type { Consumer, Credential, CredentialType, JsonObject } from '../types.js';

/** Rows as pg returns them: timestamptz as Date, text[] as string[], jsonb already parsed. */
export interface ConsumerRow {
  id: string;
  name: string;
  tags: string[];
  plan: string | null;
  metadata: JsonObject;
  created_at: Date;
  updated_at: Date;
}

export interface CredentialRow {
  id: string;
  consumer_id: string;
  type: string;
  label: string;
  lookup_id: string;
  secret_hash: string;
  scopes: string[];
  expires_at: Date | null;
  revoked_at: Date | null;
  grace_until: Date | null;
  last_used_at: Date | null;
  metadata: JsonObject;
  created_at: Date;
}

export function toConsumer(row: ConsumerRow): Consumer {
  return {
    id: row.id,
    name: row.name,
    tags: row.tags,
    plan: row.plan,
    metadata: row.metadata,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
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
    scopes: row.scopes,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    graceUntil: row.grace_until,
    lastUsedAt: row.last_used_at,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

/**
 * The entities the gateway keeps durably, and the `Store` that holds them. Every backend implements
 * the same interface and passes the same contract suite (test/storage/contract.ts), so callers never
 * branch on the backend. Areas hang off the store (`store.consumers`, `store.credentials`, `store.oauth`); audit
 * records and inventory will be added as further areas without touching these.
 */
import type { AuditRepository } from './audit-types.js';

/** Plain JSON: what `metadata` may hold, so every backend round-trips it exactly. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Consumer {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly plan: string | null;
  readonly metadata: JsonObject;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface NewConsumer {
  name: string;
  tags?: string[];
  plan?: string | null;
  metadata?: JsonObject;
}

/** Only the fields given change; `updatedAt` always moves. */
export type ConsumerPatch = Partial<NewConsumer>;

export interface ListConsumersOptions {
  /** Page size, 1..1000; 100 when absent. */
  limit?: number;
  /** `nextCursor` from the previous page; opaque to callers. */
  cursor?: string | null;
  /** Only consumers carrying this tag. */
  tag?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Present when more items may follow; pass it back as `cursor`. */
  readonly nextCursor: string | null;
}

export const CREDENTIAL_TYPES = ['api-key', 'hmac', 'basic', 'mtls'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export interface Credential {
  readonly id: string;
  readonly consumerId: string;
  readonly type: CredentialType;
  readonly label: string;
  /** Public identifier to find the credential without its secret (an API key's key id); unique per type. */
  readonly lookupId: string;
  /** A hash made by the caller; the store never sees a secret and never interprets this. */
  readonly secretHash: string;
  readonly scopes: readonly string[];
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  /** During rotation the old credential keeps working until then, even when revoked. */
  readonly graceUntil: Date | null;
  readonly lastUsedAt: Date | null;
  readonly metadata: JsonObject;
  readonly createdAt: Date;
}

export interface NewCredential {
  consumerId: string;
  type: CredentialType;
  lookupId: string;
  secretHash: string;
  label?: string;
  scopes?: string[];
  expiresAt?: Date | null;
  metadata?: JsonObject;
}

export interface ConsumerRepository {
  /** STORE_CONFLICT when the name is taken. */
  create(input: NewConsumer): Promise<Consumer>;
  get(id: string): Promise<Consumer | null>;
  getByName(name: string): Promise<Consumer | null>;
  /** Ordered by name. */
  list(options?: ListConsumersOptions): Promise<Page<Consumer>>;
  /** STORE_NOT_FOUND when absent, STORE_CONFLICT when renamed onto a taken name. */
  update(id: string, patch: ConsumerPatch): Promise<Consumer>;
  /** Deletes the consumer's credentials with it. False when there was nothing to delete. */
  delete(id: string): Promise<boolean>;
}

export interface CredentialRepository {
  /** STORE_NOT_FOUND when the consumer is absent, STORE_CONFLICT when (type, lookupId) is taken. */
  create(input: NewCredential): Promise<Credential>;
  get(id: string): Promise<Credential | null>;
  /** Revoked and expired credentials are returned too: the caller tells the client why it failed. */
  findByLookup(type: CredentialType, lookupId: string): Promise<Credential | null>;
  /** Oldest first. */
  listByConsumer(consumerId: string): Promise<Credential[]>;
  /** Keeps the first revocation time when called twice. STORE_NOT_FOUND when absent. */
  revoke(id: string, at?: Date): Promise<Credential>;
  /** null ends the grace period. STORE_NOT_FOUND when absent. */
  setGraceUntil(id: string, until: Date | null): Promise<Credential>;
  /**
   * Records use of many credentials in one statement (the caller batches uses in memory, so there
   * is no write per request). Never moves `lastUsedAt` backwards. Returns how many rows changed.
   */
  touchLastUsed(ids: readonly string[], at?: Date): Promise<number>;
  delete(id: string): Promise<boolean>;
}

/** Requests to add to a consumer's count for one quota period (`<quota>:2026-11-23`, `<quota>:2026-11`). */
export interface UsageIncrement {
  consumerId: string;
  period: string;
  count: number;
}

export interface UsageRecord {
  readonly consumerId: string;
  readonly period: string;
  readonly count: number;
  readonly updatedAt: Date;
}

/**
 * Quota usage (migration 003). Written in batches by the rate-limit policy's quota counter, never
 * once per request; rows are not tied to the consumers table, since a consumer may be a JWT subject.
 */
export interface UsageRepository {
  /** Adds every increment in one transaction (rows made as needed); returns the totals after, in order. STORE_INVALID for a bad count. */
  add(increments: readonly UsageIncrement[], at?: Date): Promise<number[]>;
  /** The count, 0 when there is no row. */
  get(consumerId: string, period: string): Promise<number>;
  /** Every period of the consumer, latest period first. */
  listByConsumer(consumerId: string): Promise<UsageRecord[]>;
}

/**
 * One record of the bundled OAuth server's state (src/auth-server/): oidc-provider keeps tokens,
 * grants and replay markers as JSON payloads under a model name (`ClientCredentials`, `AccessToken`,
 * `Grant`, `ReplayDetection`, ...) and an id. The store does not interpret the payload; the fields it
 * looks records up by travel beside it.
 */
export interface OAuthRecord {
  readonly model: string;
  readonly id: string;
  readonly payload: JsonObject;
  /** Every record of one grant is revoked together (RFC 7009 section 2.1). */
  readonly grantId: string | null;
  /** A session's uid (oidc-provider `findByUid`). */
  readonly uid: string | null;
  /** A device flow's user code (RFC 8628; oidc-provider `findByUserCode`). */
  readonly userCode: string | null;
  /** Past it the record is gone for every reader; null keeps it until destroyed. */
  readonly expiresAt: Date | null;
  /** First time it was consumed (a one-time code or token); null until then. */
  readonly consumedAt: Date | null;
}

export interface NewOAuthRecord {
  model: string;
  id: string;
  payload: JsonObject;
  grantId?: string | null;
  uid?: string | null;
  userCode?: string | null;
  expiresAt?: Date | null;
}

/**
 * The bundled OAuth server's state, so tokens survive a restart and every instance of the server
 * sharing a Store sees the same tokens. Expired records are never returned (`at` is the clock, now
 * by default) and `purgeExpired` deletes them.
 */
export interface OAuthStateRepository {
  /** Inserts or replaces the record (model, id); a replaced record is no longer consumed. */
  upsert(record: NewOAuthRecord): Promise<void>;
  find(model: string, id: string, at?: Date): Promise<OAuthRecord | null>;
  findByUid(model: string, uid: string, at?: Date): Promise<OAuthRecord | null>;
  findByUserCode(model: string, userCode: string, at?: Date): Promise<OAuthRecord | null>;
  /** Marks the record consumed, keeping the first time. False when there is no such record. */
  consume(model: string, id: string, at?: Date): Promise<boolean>;
  destroy(model: string, id: string): Promise<boolean>;
  /** Deletes every record of the grant, whatever its model. Returns how many. */
  revokeByGrantId(grantId: string): Promise<number>;
  /** Deletes the records expired at `at`. Returns how many. */
  purgeExpired(at?: Date): Promise<number>;
}

export type StoreBackend = 'sqlite' | 'postgres';

export type { AuditHead, AuditQuery, AuditRepository, AuditRow, NewAuditRow } from './audit-types.js';

export interface Store {
  readonly backend: StoreBackend;
  readonly consumers: ConsumerRepository;
  readonly credentials: CredentialRepository;
  readonly usage: UsageRepository;
  /** Hash-chained audit records (src/audit/), migration 004. */
  readonly audit: AuditRepository;
  readonly oauth: OAuthStateRepository;
  /** Highest migration applied; the store migrated up to it when it opened. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}

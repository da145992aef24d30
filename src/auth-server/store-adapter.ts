import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { JsonObject, OAuthStateRepository } from '../storage/types.js';

/**
 * Token state for oidc-provider in the Store (`store.oauth`, SQLite or PostgreSQL), so opaque tokens
 * survive a restart of the server, a revocation stays revoked, and several server instances sharing
 * one PostgreSQL database answer alike. Same contract as memory-adapter.ts: one adapter per model
 * name, `find` returns a copy (a fresh parse), an expired record is never found.
 */
export interface StoreAdapterOptions {
  /** Milliseconds since the epoch; injectable so tests control time. */
  now?: () => number;
}

class StoreAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly records: OAuthStateRepository,
    private readonly now: () => number,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    // No lifetime means kept until destroyed; a lifetime of 0 or less is already over.
    const expiresAt = expiresIn === undefined ? null : new Date(this.now() + Math.max(0, expiresIn) * 1000);
    // The lookup fields oidc-provider finds records by (see its Adapter documentation) travel beside the payload.
    await this.records.upsert({
      model: this.model,
      id,
      payload: payload as JsonObject,
      grantId: payload.grantId ?? null,
      uid: payload.uid ?? null,
      userCode: payload.userCode ?? null,
      expiresAt,
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(await this.records.find(this.model, id, this.at()));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(await this.records.findByUserCode(this.model, userCode, this.at()));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(await this.records.findByUid(this.model, uid, this.at()));
  }

  async consume(id: string): Promise<void> {
    await this.records.consume(this.model, id, this.at());
  }

  async destroy(id: string): Promise<void> {
    await this.records.destroy(this.model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.records.revokeByGrantId(grantId);
  }

  private at(): Date {
    return new Date(this.now());
  }

  private payloadOf(record: Awaited<ReturnType<OAuthStateRepository['find']>>): AdapterPayload | undefined {
    if (record === null) return undefined;
    const payload = record.payload as AdapterPayload;
    // oidc-provider reads `consumed` (epoch seconds) to refuse a one-time record used twice.
    return record.consumedAt === null ? payload : { ...payload, consumed: Math.floor(record.consumedAt.getTime() / 1000) };
  }
}

/** The adapter factory oidc-provider calls once per model, all writing to one Store area. */
export function createStoreAdapter(records: OAuthStateRepository, options: StoreAdapterOptions = {}): AdapterFactory {
  const now = options.now ?? Date.now;
  return (model: string) => new StoreAdapter(model, records, now);
}

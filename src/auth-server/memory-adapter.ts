import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

/**
 * Token state for oidc-provider, in memory. oidc-provider talks to storage only through its
 * `Adapter` interface (one instance per model name: ClientCredentials, AccessToken, Grant,
 * ReplayDetection, ...), so a Store-backed adapter replaces this one by implementing the same
 * interface and being passed as `StartAuthServerOptions.adapter`; nothing else changes.
 *
 * Bounded: past `maxEntries` the oldest record goes first. A token evicted early is simply
 * inactive (introspection answers `active: false`, RFC 7662 section 2.2), never wrongly active.
 */
export interface MemoryAdapterOptions {
  maxEntries: number;
  /** Milliseconds since the epoch; injectable so tests control time. */
  now?: () => number;
}

interface Entry {
  value: AdapterPayload | string[] | string;
  /** Milliseconds since the epoch; Infinity for records without a lifetime. */
  expiresAt: number;
}

/** One map for every model: keys are `<model>:<id>`, plus the grant, session and user-code indexes. */
export class MemoryAdapterState {
  private readonly entries = new Map<string, Entry>();
  readonly now: () => number;

  constructor(private readonly options: MemoryAdapterOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Entry['value'] | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: Entry['value'], expiresAt: number): void {
    // Re-inserting moves the key to the young end, so eviction takes the oldest write.
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    this.evict();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  private evict(): void {
    // Map iteration is insertion order: the first keys are the oldest writes.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries) return;
      this.entries.delete(key);
    }
  }

  /** Drops expired records; called on a timer so idle memory does not linger. */
  sweep(): number {
    const now = this.now();
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }
}

class MemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly state: MemoryAdapterState,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    // No lifetime means kept until evicted; a lifetime of 0 or less is already over.
    const expiresAt = expiresIn === undefined ? Infinity : this.state.now() + Math.max(0, expiresIn) * 1000;
    const key = this.key(id);
    this.state.set(key, structuredClone(payload), expiresAt);
    // Indexes oidc-provider looks records up by (see its Adapter documentation).
    if (payload.grantId !== undefined) {
      const indexKey = `grant:${payload.grantId}`;
      const list = this.state.get(indexKey);
      const keys = Array.isArray(list) ? list : [];
      if (!keys.includes(key)) keys.push(key);
      this.state.set(indexKey, keys, expiresAt);
    }
    if (payload.userCode !== undefined) this.state.set(`userCode:${payload.userCode}`, id, expiresAt);
    if (payload.uid !== undefined) this.state.set(`sessionUid:${payload.uid}`, id, expiresAt);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const value = this.state.get(this.key(id));
    return isPayload(value) ? structuredClone(value) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = this.state.get(`userCode:${userCode}`);
    return typeof id === 'string' ? this.find(id) : undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = this.state.get(`sessionUid:${uid}`);
    return typeof id === 'string' ? this.find(id) : undefined;
  }

  async consume(id: string): Promise<void> {
    const value = this.state.get(this.key(id));
    if (isPayload(value)) value.consumed = Math.floor(this.state.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.state.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const keys = this.state.get(`grant:${grantId}`);
    if (Array.isArray(keys)) for (const key of keys) this.state.delete(key);
    this.state.delete(`grant:${grantId}`);
  }
}

function isPayload(value: Entry['value'] | undefined): value is AdapterPayload {
  return value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

/** The adapter factory oidc-provider calls once per model, all sharing one bounded state. */
export function createMemoryAdapter(state: MemoryAdapterState): AdapterFactory {
  return (model: string) => new MemoryAdapter(model, state);
}

import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { configValidator } from '../../config/ajv.js';
import { MemoryStateStore } from '../../state/memory.js';
import { StoreError } from '../../storage/errors.js';
import { SqliteStore } from '../../storage/sqlite/store.js';
import type { CredentialRepository, Store } from '../../storage/types.js';
import type { AuthResult } from '../authenticator.js';
import { FakeClock } from '../jwt/test-fixtures.js';
import { createApiKeyAuthenticator, CREDENTIALS_CHANNEL, type ApiKeyAuthenticator } from './authenticator.js';
import { generateApiKey, hashApiKey, parseApiKey } from './format.js';
import { ApiKeyMethodSchema, type ApiKeyMethodConfig } from './schema.js';

/** The real SQLite store, with every credential call counted by name. */
function counted(store: Store): { store: Store; calls: Map<string, number>; args: unknown[][] } {
  const calls = new Map<string, number>();
  const args: unknown[][] = [];
  const credentials = new Proxy(store.credentials, {
    get(target, name: keyof CredentialRepository) {
      const fn = target[name] as (...a: unknown[]) => unknown;
      return (...a: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        if (name === 'touchLastUsed') args.push(a);
        return fn.apply(target, a);
      };
    },
  });
  // The real store with only `credentials` replaced (every other area and method reached through the prototype).
  return { store: Object.create(store, { credentials: { value: credentials } }) as Store, calls, args };
}

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

async function setup(config: Record<string, unknown> = {}) {
  const raw = structuredClone(config);
  if (!configValidator(ApiKeyMethodSchema)(raw)) throw new Error('bad test config');
  const sqlite = SqliteStore.open({ path: ':memory:' });
  const state = new MemoryStateStore();
  const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
  const { store, calls, args } = counted(sqlite);
  const auth = createApiKeyAuthenticator(raw as ApiKeyMethodConfig, makeDeps({ now: clock.now, store: async () => store, state: async () => state }));
  open.push(sqlite, state, auth);
  const consumer = await sqlite.consumers.create({ name: 'acme' });
  const pepper = raw.pepper === undefined ? undefined : Buffer.from(String(raw.pepper));
  const addKey = async (extra: { scopes?: string[]; expiresAt?: Date } = {}) => {
    const { key, keyId } = generateApiKey();
    const credential = await sqlite.credentials.create({ consumerId: consumer.id, type: 'api-key', lookupId: keyId, secretHash: hashApiKey(key, pepper), ...extra });
    return { key, keyId, credential };
  };
  const lookups = () => calls.get('findByLookup') ?? 0;
  return { sqlite, state, clock, auth, consumer, addKey, calls, args, lookups };
}

const run = (auth: ApiKeyAuthenticator, headers: Record<string, string>, url = '/'): Promise<AuthResult> =>
  Promise.resolve(auth.authenticate(makeContext({ headers, url })));
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Appends the format's checksum (CRC-32 in 6 base62 characters) to `pcl_<key id>_<secret>`. */
function withChecksum(body: string): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let sum = '';
  for (let v = crc32(body) >>> 0, i = 0; i < 6; i++, v = Math.floor(v / 62)) sum = alphabet[v % 62] + sum;
  return body + sum;
}

/** Changes the last checksum character. */
function withChecksumBroken(key: string): string {
  const last = key.at(-1) === 'A' ? 'B' : 'A';
  return key.slice(0, -1) + last;
}

describe('api-key authenticator', () => {
  it('authenticates a valid key with the consumer and the key scopes', async () => {
    const { auth, addKey, consumer } = await setup();
    const { key, keyId, credential } = await addKey({ scopes: ['orders:read', 'orders:write'] });
    const result = await run(auth, { 'x-api-key': key });
    expect(result).toEqual({
      kind: 'authenticated',
      principal: { method: 'api-key', consumerId: consumer.id, subject: consumer.id, scopes: ['orders:read', 'orders:write'], claims: { credentialId: credential.id, keyId } },
    });
  });

  it("gives the principal the consumer's tags and metadata.roles as groups, ignoring non-strings", async () => {
    const { auth, addKey, consumer, sqlite } = await setup();
    await sqlite.consumers.update(consumer.id, { tags: ['beta'], metadata: { roles: ['admin', 5, '', 'beta'] } });
    const { key } = await addKey();
    const result = await run(auth, { 'x-api-key': key });
    expect(result.kind === 'authenticated' && result.principal.groups).toEqual(['beta', 'admin']);
  });

  it('is not applicable without the header, and strips the header when present', async () => {
    const { auth, addKey } = await setup();
    expect(await run(auth, {})).toEqual({ kind: 'not-applicable' });
    const { key } = await addKey();
    const ctx = makeContext({ headers: { 'x-api-key': key } });
    await auth.authenticate(ctx);
    expect(ctx.upstreamHeaders).toEqual({ 'x-api-key': null });
  });

  it('refuses a wrong checksum or a malformed key without querying the store', async () => {
    const { auth, addKey, lookups } = await setup();
    const { key } = await addKey();
    expect(await run(auth, { 'x-api-key': withChecksumBroken(key) })).toMatchObject({ kind: 'rejected', reason: 'api-key: key checksum mismatch' });
    expect(await run(auth, { 'x-api-key': 'not-a-key' })).toMatchObject({ kind: 'rejected', reason: 'api-key: malformed key' });
    expect(lookups()).toBe(0);
  });

  it('refuses an unknown key id, and a known key id with the wrong secret', async () => {
    const { auth, addKey } = await setup();
    const stranger = generateApiKey();
    expect(await run(auth, { 'x-api-key': stranger.key })).toMatchObject({ kind: 'rejected', reason: `api-key: unknown key id ${stranger.keyId}` });
    const { keyId } = await addKey();
    // Same key id, another secret, valid checksum: only the hash comparison can tell.
    const forged = generateApiKey();
    const other = withChecksum(`pcl_${keyId}_${forged.key.slice(17, 60)}`);
    expect(parseApiKey(other)).toEqual({ ok: true, keyId });
    expect(await run(auth, { 'x-api-key': other })).toMatchObject({ kind: 'rejected', reason: `api-key: wrong secret for key id ${keyId}`, credentialId: `api-key:${keyId}` });
  });

  it('caches lookups by key id for cacheTtl', async () => {
    const { auth, addKey, lookups, clock } = await setup({ cacheTtl: '30s' });
    const { key } = await addKey();
    for (let i = 0; i < 3; i++) expect((await run(auth, { 'x-api-key': key })).kind).toBe('authenticated');
    expect(lookups()).toBe(1);
    clock.advance(30_000);
    await run(auth, { 'x-api-key': key });
    expect(lookups()).toBe(2);
  });

  it('refuses a revoked key, and a revocation published on the channel evicts the cached credential at once', async () => {
    const { auth, addKey, sqlite, state, clock, lookups } = await setup({ cacheTtl: '5m' });
    const { key, keyId, credential } = await addKey();
    expect((await run(auth, { 'x-api-key': key })).kind).toBe('authenticated');
    expect(auth.authenticate(makeContext({ headers: { 'x-api-key': key } }))).toMatchObject({ kind: 'authenticated' }); // cached: synchronous
    await sqlite.credentials.revoke(credential.id, new Date(clock.now()));
    await state.publish(CREDENTIALS_CHANNEL, keyId);
    await tick();
    expect(await run(auth, { 'x-api-key': key })).toMatchObject({ kind: 'rejected', reason: `api-key: key ${keyId} revoked` });
    expect(lookups()).toBe(2);
  });

  it('refuses an expired key', async () => {
    const { auth, addKey, clock } = await setup();
    const { key, keyId } = await addKey({ expiresAt: new Date(clock.now() + 60_000) });
    expect((await run(auth, { 'x-api-key': key })).kind).toBe('authenticated');
    clock.advance(60_000);
    expect(await run(auth, { 'x-api-key': key })).toMatchObject({ kind: 'rejected', reason: `api-key: key ${keyId} expired` });
  });

  it('keeps a rotated (revoked) key working during its grace period, and refuses it after', async () => {
    const { auth, addKey, sqlite, clock } = await setup({ cacheTtl: 0 });
    const { key, keyId, credential } = await addKey();
    await sqlite.credentials.revoke(credential.id, new Date(clock.now()));
    await sqlite.credentials.setGraceUntil(credential.id, new Date(clock.now() + 3_600_000));
    expect((await run(auth, { 'x-api-key': key })).kind).toBe('authenticated');
    clock.advance(3_600_000);
    expect(await run(auth, { 'x-api-key': key })).toMatchObject({ kind: 'rejected', reason: `api-key: key ${keyId} rotated, grace period over` });
  });

  it('ignores a key in the query string unless the route opts in', async () => {
    const off = await setup();
    const { key } = await off.addKey();
    expect(await run(off.auth, {}, `/orders?api_key=${key}`)).toEqual({ kind: 'not-applicable' });

    const on = await setup({ queryParameter: 'api_key' });
    const second = await on.addKey();
    const ctx = makeContext({ url: `/orders?a=1&api_key=${second.key}&b=%20x` });
    expect((await auth(on.auth, ctx)).kind).toBe('authenticated');
    expect(ctx.query).toBe('a=1&b=%20x');
    expect(await run(on.auth, {}, `/o?api_key=${second.key}&api_key=${second.key}`)).toMatchObject({ kind: 'rejected', reason: 'api-key: malformed key' });
  });

  it('records last use in one batched write per flush interval', async () => {
    const { auth, addKey, calls, args, sqlite, clock } = await setup({ lastUsedFlushInterval: '1h' });
    const a = await addKey();
    const b = await addKey();
    for (let i = 0; i < 5; i++) {
      await run(auth, { 'x-api-key': a.key });
      await run(auth, { 'x-api-key': b.key });
    }
    expect(calls.get('touchLastUsed')).toBeUndefined();
    await auth.lastUsed.flush();
    expect(calls.get('touchLastUsed')).toBe(1);
    expect(new Set(args[0]![0] as string[])).toEqual(new Set([a.credential.id, b.credential.id]));
    expect((await sqlite.credentials.get(a.credential.id))!.lastUsedAt!.getTime()).toBe(clock.now());
    await auth.lastUsed.flush();
    expect(calls.get('touchLastUsed')).toBe(1);
  });

  it('flushes pending last-used times on close', async () => {
    const { auth, addKey, calls } = await setup({ lastUsedFlushInterval: '1h' });
    await run(auth, { 'x-api-key': (await addKey()).key });
    await auth.close();
    expect(calls.get('touchLastUsed')).toBe(1);
  });

  it('throws a store fault for the policy failureMode to handle', async () => {
    const clock = new FakeClock();
    const state = new MemoryStateStore();
    open.push(state);
    const auth = createApiKeyAuthenticator(defaults(), makeDeps({ now: clock.now, store: () => Promise.reject(new StoreError('STORE_UNAVAILABLE', 'sqlite store is unavailable')), state: async () => state }));
    await expect(run(auth, { 'x-api-key': generateApiKey().key })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('verifies against peppered hashes', async () => {
    const { auth, addKey } = await setup({ pepper: 'a-server-side-pepper-value' });
    expect((await run(auth, { 'x-api-key': (await addKey()).key })).kind).toBe('authenticated');
  });
});

function auth(a: ApiKeyAuthenticator, ctx: ReturnType<typeof makeContext>): Promise<AuthResult> {
  return Promise.resolve(a.authenticate(ctx));
}

function defaults(): ApiKeyMethodConfig {
  const raw = {};
  configValidator(ApiKeyMethodSchema)(raw);
  return raw as ApiKeyMethodConfig;
}

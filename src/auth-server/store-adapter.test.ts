import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../storage/sqlite/store.js';
import { loadAuthServerConfigText } from './load.js';
import { createStoreAdapter } from './store-adapter.js';
import { openTokenState } from './token-state.js';

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function setup() {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const store = SqliteStore.open({ path: ':memory:' });
  stores.push(store);
  const factory = createStoreAdapter(store.oauth, { now: () => now });
  return { store, factory, advance: (ms: number) => (now += ms), now: () => now };
}

describe('Store adapter for oidc-provider', () => {
  it('finds a record until it expires, then forgets it', async () => {
    const { factory, advance } = setup();
    const tokens = factory('ClientCredentials');
    await tokens.upsert('abc', { clientId: 'demo', scope: 'read' }, 60);
    expect(await tokens.find('abc')).toEqual({ clientId: 'demo', scope: 'read' });
    advance(59_999);
    expect(await tokens.find('abc')).toBeDefined();
    advance(1);
    expect(await tokens.find('abc')).toBeUndefined();
  });

  it('keeps models apart and returns copies a caller cannot change the stored record through', async () => {
    const { factory } = setup();
    await factory('AccessToken').upsert('x', { scope: 'read' }, 60);
    expect(await factory('ClientCredentials').find('x')).toBeUndefined();
    const found = await factory('AccessToken').find('x');
    found!.scope = 'admin';
    expect((await factory('AccessToken').find('x'))?.scope).toBe('read');
  });

  it('reports consumption as `consumed` in epoch seconds, and a second consume keeps the first time', async () => {
    const { factory, advance, now } = setup();
    const codes = factory('AuthorizationCode');
    await codes.upsert('c1', { grantId: 'g' }, 60);
    expect((await codes.find('c1'))?.consumed).toBeUndefined();
    await codes.consume('c1');
    const first = Math.floor(now() / 1000);
    advance(5000);
    await codes.consume('c1');
    expect((await codes.find('c1'))?.consumed).toBe(first);
  });

  it('destroys a record and revokes every record of a grant', async () => {
    const { factory } = setup();
    await factory('AccessToken').upsert('t1', { grantId: 'g1' }, 60);
    await factory('RefreshToken').upsert('t2', { grantId: 'g1' }, 60);
    await factory('AccessToken').upsert('t3', { grantId: 'g2' }, 60);
    await factory('AccessToken').revokeByGrantId('g1');
    expect(await factory('AccessToken').find('t1')).toBeUndefined();
    expect(await factory('RefreshToken').find('t2')).toBeUndefined();
    await factory('AccessToken').destroy('t3');
    expect(await factory('AccessToken').find('t3')).toBeUndefined();
  });

  it('finds records by uid and by user code', async () => {
    const { factory } = setup();
    await factory('Session').upsert('s1', { uid: 'u1' }, 60);
    await factory('DeviceCode').upsert('d1', { userCode: 'ABCD' }, 60);
    expect(await factory('Session').findByUid('u1')).toMatchObject({ uid: 'u1' });
    expect(await factory('DeviceCode').findByUserCode('ABCD')).toMatchObject({ userCode: 'ABCD' });
    expect(await factory('DeviceCode').findByUserCode('abcd')).toBeUndefined();
  });

  it('purges expired rows from the Store when the token state opens', async () => {
    const { store, factory, advance, now } = setup();
    await factory('ClientCredentials').upsert('short', {}, 1);
    await factory('ClientCredentials').upsert('long', {}, 3600);
    advance(2000);
    const { config } = loadAuthServerConfigText('storage: { backend: sqlite }\n', '/cfg/a.yaml');
    const state = await openTokenState(config, { dir: '/cfg', logger: pino({ level: 'silent' }), store, now });
    // Read with a clock from before the expiry: only a deleted row is missing then.
    const before = new Date(now() - 10_000);
    expect(await store.oauth.find('ClientCredentials', 'short', before)).toBeNull();
    expect(await store.oauth.find('ClientCredentials', 'long', before)).not.toBeNull();
    await state.close();
  });
});

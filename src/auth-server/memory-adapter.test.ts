import { describe, expect, it } from 'vitest';
import { createMemoryAdapter, MemoryAdapterState } from './memory-adapter.js';

function setup(maxEntries = 100) {
  let now = 1_000_000;
  const state = new MemoryAdapterState({ maxEntries, now: () => now });
  const factory = createMemoryAdapter(state);
  return { state, factory, advance: (ms: number) => (now += ms) };
}

describe('memory adapter', () => {
  it('finds a record until it expires, then forgets it', async () => {
    const { factory, advance } = setup();
    const tokens = factory('ClientCredentials');
    await tokens.upsert('abc', { clientId: 'demo', scope: 'read' }, 60);
    expect(await tokens.find('abc')).toMatchObject({ clientId: 'demo', scope: 'read' });
    advance(59_999);
    expect(await tokens.find('abc')).toBeDefined();
    advance(1);
    expect(await tokens.find('abc')).toBeUndefined();
  });

  it('keeps models apart: the same id under two models is two records', async () => {
    const { factory } = setup();
    await factory('AccessToken').upsert('x', { clientId: 'a' }, 60);
    expect(await factory('ClientCredentials').find('x')).toBeUndefined();
  });

  it('returns copies, so a caller cannot change what is stored', async () => {
    const { factory } = setup();
    const tokens = factory('ClientCredentials');
    await tokens.upsert('abc', { scope: 'read' }, 60);
    const found = await tokens.find('abc');
    found!.scope = 'admin';
    expect((await tokens.find('abc'))?.scope).toBe('read');
  });

  it('drops the oldest records past maxEntries', async () => {
    const { state, factory } = setup(3);
    const tokens = factory('ClientCredentials');
    for (const id of ['a', 'b', 'c', 'd']) await tokens.upsert(id, { jti: id }, 60);
    expect(state.size).toBe(3);
    expect(await tokens.find('a')).toBeUndefined();
    expect(await tokens.find('d')).toBeDefined();
  });

  it('destroys a record, marks it consumed, and revokes everything of a grant', async () => {
    const { factory } = setup();
    const tokens = factory('AccessToken');
    await tokens.upsert('t1', { grantId: 'g1' }, 60);
    await tokens.upsert('t2', { grantId: 'g1' }, 60);
    await tokens.upsert('t3', { grantId: 'g2' }, 60);
    await tokens.consume('t3');
    expect((await tokens.find('t3'))?.consumed).toBe(1000);
    await tokens.revokeByGrantId('g1');
    expect(await tokens.find('t1')).toBeUndefined();
    expect(await tokens.find('t2')).toBeUndefined();
    await tokens.destroy('t3');
    expect(await tokens.find('t3')).toBeUndefined();
  });

  it('finds records by uid and user code', async () => {
    const { factory } = setup();
    await factory('Session').upsert('s1', { uid: 'u1' }, 60);
    await factory('DeviceCode').upsert('d1', { userCode: 'ABCD' }, 60);
    expect(await factory('Session').findByUid('u1')).toMatchObject({ uid: 'u1' });
    expect(await factory('DeviceCode').findByUserCode('ABCD')).toMatchObject({ userCode: 'ABCD' });
  });

  it('sweeps expired records', async () => {
    const { state, factory, advance } = setup();
    await factory('ClientCredentials').upsert('short', {}, 1);
    await factory('ClientCredentials').upsert('long', {}, 100);
    advance(2000);
    expect(state.sweep()).toBe(1);
    expect(state.size).toBe(1);
  });
});

import { expect, it } from 'vitest';
import type { Store } from '../../src/storage/types.js';
import { codeOf } from './contract.js';

/**
 * The OAuth state area (`store.oauth`), part of the Store contract: called from runStoreContract
 * inside its describe, so every backend runs it with a fresh store per test.
 */
export function oauthStateContract(current: () => Store): void {
  const HOUR = 3_600_000;
  const later = () => new Date(Date.now() + HOUR);

  it('oauth: upserts a record and finds it by (model, id) with its payload, lookup fields and expiry', async () => {
    const store = current();
    const expiresAt = later();
    const payload = { kind: 'ClientCredentials', clientId: 'demo', scope: 'read write', exp: 1_900_000_000, extra: { list: [1, 'two', null] }, uni: 'Zürich 🚀' };
    await store.oauth.upsert({ model: 'ClientCredentials', id: 'tok-1', payload, grantId: 'g-1', expiresAt });
    const found = await store.oauth.find('ClientCredentials', 'tok-1');
    expect(found).toEqual({ model: 'ClientCredentials', id: 'tok-1', payload, grantId: 'g-1', uid: null, userCode: null, expiresAt, consumedAt: null });
    expect(await store.oauth.find('AccessToken', 'tok-1')).toBeNull();
    expect(await store.oauth.find('ClientCredentials', 'tok-2')).toBeNull();
  });

  it('oauth: replaces a record on upsert and clears its consumption', async () => {
    const store = current();
    await store.oauth.upsert({ model: 'AuthorizationCode', id: 'c', payload: { v: 1 }, expiresAt: later() });
    expect(await store.oauth.consume('AuthorizationCode', 'c')).toBe(true);
    expect((await store.oauth.find('AuthorizationCode', 'c'))?.consumedAt).toBeInstanceOf(Date);
    await store.oauth.upsert({ model: 'AuthorizationCode', id: 'c', payload: { v: 2 }, expiresAt: null });
    expect(await store.oauth.find('AuthorizationCode', 'c')).toMatchObject({ payload: { v: 2 }, consumedAt: null, expiresAt: null });
  });

  it('oauth: never returns an expired record, and purges expired records only', async () => {
    const store = current();
    const now = Date.now();
    await store.oauth.upsert({ model: 'ClientCredentials', id: 'old', payload: {}, uid: 'u-old', expiresAt: new Date(now - 1000) });
    await store.oauth.upsert({ model: 'ClientCredentials', id: 'young', payload: {}, expiresAt: new Date(now + 60_000) });
    await store.oauth.upsert({ model: 'Grant', id: 'forever', payload: {}, expiresAt: null });
    expect(await store.oauth.find('ClientCredentials', 'old')).toBeNull();
    expect(await store.oauth.findByUid('ClientCredentials', 'u-old')).toBeNull();
    expect(await store.oauth.consume('ClientCredentials', 'old')).toBe(false);
    // Read with a clock two minutes ahead: the young one is expired too.
    expect(await store.oauth.find('ClientCredentials', 'young', new Date(now + 120_000))).toBeNull();
    expect(await store.oauth.find('ClientCredentials', 'young')).not.toBeNull();
    expect(await store.oauth.purgeExpired()).toBe(1);
    expect(await store.oauth.purgeExpired()).toBe(0);
    expect(await store.oauth.purgeExpired(new Date(now + 120_000))).toBe(1);
    expect(await store.oauth.find('Grant', 'forever', new Date(now + 100 * 365 * 86_400_000))).not.toBeNull();
  });

  it('oauth: finds records by uid and by user code within their model', async () => {
    const store = current();
    await store.oauth.upsert({ model: 'Session', id: 's1', payload: { uid: 'u1' }, uid: 'u1', expiresAt: later() });
    await store.oauth.upsert({ model: 'DeviceCode', id: 'd1', payload: { userCode: 'ABCD-EFGH' }, userCode: 'ABCD-EFGH', expiresAt: later() });
    expect((await store.oauth.findByUid('Session', 'u1'))?.id).toBe('s1');
    expect((await store.oauth.findByUserCode('DeviceCode', 'ABCD-EFGH'))?.id).toBe('d1');
    expect(await store.oauth.findByUid('Grant', 'u1')).toBeNull();
    expect(await store.oauth.findByUserCode('DeviceCode', 'abcd-efgh')).toBeNull();
  });

  it('oauth: consumes once (the first time is kept) and destroys', async () => {
    const store = current();
    await store.oauth.upsert({ model: 'ReplayDetection', id: 'jti-1', payload: {}, expiresAt: later() });
    const first = new Date(Date.now() - 5000);
    expect(await store.oauth.consume('ReplayDetection', 'jti-1', first)).toBe(true);
    expect(await store.oauth.consume('ReplayDetection', 'jti-1')).toBe(true);
    expect((await store.oauth.find('ReplayDetection', 'jti-1'))?.consumedAt?.getTime()).toBe(first.getTime());
    expect(await store.oauth.consume('ReplayDetection', 'missing')).toBe(false);
    expect(await store.oauth.destroy('ReplayDetection', 'jti-1')).toBe(true);
    expect(await store.oauth.destroy('ReplayDetection', 'jti-1')).toBe(false);
    expect(await store.oauth.find('ReplayDetection', 'jti-1')).toBeNull();
  });

  it('oauth: revokes every record of a grant across models, and nothing else', async () => {
    const store = current();
    await store.oauth.upsert({ model: 'AccessToken', id: 'a1', payload: {}, grantId: 'g1', expiresAt: later() });
    await store.oauth.upsert({ model: 'RefreshToken', id: 'r1', payload: {}, grantId: 'g1', expiresAt: later() });
    await store.oauth.upsert({ model: 'AccessToken', id: 'a2', payload: {}, grantId: 'g2', expiresAt: later() });
    expect(await store.oauth.revokeByGrantId('g1')).toBe(2);
    expect(await store.oauth.find('AccessToken', 'a1')).toBeNull();
    expect(await store.oauth.find('RefreshToken', 'r1')).toBeNull();
    expect(await store.oauth.find('AccessToken', 'a2')).not.toBeNull();
    expect(await store.oauth.revokeByGrantId("g1' OR '1'='1")).toBe(0);
    expect(await store.oauth.find('AccessToken', 'a2')).not.toBeNull();
  });

  it('oauth: refuses invalid input with STORE_INVALID', async () => {
    const store = current();
    expect(await codeOf(store.oauth.upsert({ model: '', id: 'x', payload: {} }))).toBe('STORE_INVALID');
    expect(await codeOf(store.oauth.upsert({ model: 'M', id: 'a\u0000b', payload: {} }))).toBe('STORE_INVALID');
    expect(await codeOf(store.oauth.upsert({ model: 'M', id: 'x', payload: [] as never }))).toBe('STORE_INVALID');
    expect(await codeOf(store.oauth.upsert({ model: 'M', id: 'x', payload: { big: 'x'.repeat(300_000) } }))).toBe('STORE_INVALID');
    expect(await codeOf(store.oauth.upsert({ model: 'M', id: 'x', payload: {}, expiresAt: new Date(Number.NaN) }))).toBe('STORE_INVALID');
    expect(await codeOf(store.oauth.find('M', ''))).toBe('STORE_INVALID');
  });
}

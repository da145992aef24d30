import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStoreError, type StoreErrorCode } from '../../src/storage/errors.js';
import type { NewCredential, Store } from '../../src/storage/types.js';
import { runAuditContract } from './audit-contract.js';
import { oauthStateContract } from './contract-oauth.js';

export interface StoreFixture {
  store: Store;
  /** Drops what the fixture made (a schema, a file); runs after store.close(). */
  cleanup?: () => Promise<void>;
}

/** Resolves to the StoreError code the promise rejected with; fails the test when it resolved. */
export async function codeOf(promise: Promise<unknown>): Promise<StoreErrorCode> {
  try {
    await promise;
  } catch (err) {
    if (isStoreError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a StoreError, but the call succeeded');
}

/**
 * Every behaviour a Store backend must have. Each test gets a fresh, empty, migrated store from
 * `factory`, so tests neither see nor depend on each other's rows.
 */
export function runStoreContract(name: string, factory: () => Promise<StoreFixture>): void {
  runAuditContract(name, factory);
  describe(`Store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });
    afterEach(async () => {
      await store.close();
      await fixture.cleanup?.();
    });

    const key = (consumerId: string, lookupId: string, extra: Partial<NewCredential> = {}): NewCredential => ({
      consumerId,
      type: 'api-key',
      lookupId,
      secretHash: `hash-of-${lookupId}`,
      ...extra,
    });

    it('is migrated to the latest version on open', async () => {
      expect(await store.schemaVersion()).toBeGreaterThanOrEqual(1);
    });

    it('creates a consumer with generated id and defaults, and reads it back by id and by name', async () => {
      const c = await store.consumers.create({ name: 'alice' });
      expect(c.id).toMatch(/^cons_[A-Za-z0-9_-]{22}$/);
      expect(c).toMatchObject({ name: 'alice', tags: [], plan: null, metadata: {} });
      expect(c.createdAt).toBeInstanceOf(Date);
      expect(c.updatedAt.getTime()).toBe(c.createdAt.getTime());
      expect(await store.consumers.get(c.id)).toEqual(c);
      expect(await store.consumers.getByName('alice')).toEqual(c);
      expect(await store.consumers.get('cons_missing')).toBeNull();
      expect(await store.consumers.getByName('nobody')).toBeNull();
    });

    it('refuses a duplicate consumer name with STORE_CONFLICT, without SQL in the message', async () => {
      await store.consumers.create({ name: 'alice' });
      const err = await store.consumers.create({ name: 'alice' }).catch((e: unknown) => e);
      expect(isStoreError(err, 'STORE_CONFLICT')).toBe(true);
      expect((err as Error).message).not.toMatch(/insert|select|constraint|sqlite|unique|duplicate key/i);
    });

    it('refuses invalid input with STORE_INVALID', async () => {
      expect(await codeOf(store.consumers.create({ name: '' }))).toBe('STORE_INVALID');
      expect(await codeOf(store.consumers.create({ name: 'x', metadata: [] as never }))).toBe('STORE_INVALID');
      expect(await codeOf(store.consumers.create({ name: 'a\u0000b' }))).toBe('STORE_INVALID');
      const c = await store.consumers.create({ name: 'ok' });
      expect(await codeOf(store.credentials.create(key(c.id, 'k', { type: 'password' as never })))).toBe('STORE_INVALID');
      expect(await codeOf(store.consumers.list({ limit: 0 }))).toBe('STORE_INVALID');
      expect(await codeOf(store.consumers.list({ cursor: 'not-a-cursor' }))).toBe('STORE_INVALID');
    });

    it('round-trips tags, plan, nested JSON metadata and unicode exactly', async () => {
      const metadata = {
        team: 'Zürich 🚀',
        limits: { daily: 1000, burst: 2.5, flags: [true, false, null] },
        nested: { deep: { list: [1, 'two', { three: 3 }] } },
        empty: {},
        quote: 'it\'s "quoted" \\ and \n newline',
      };
      const c = await store.consumers.create({ name: 'ünïcødé-名前-🔑', tags: ['gold', 'éu'], plan: 'pro', metadata });
      const read = await store.consumers.getByName('ünïcødé-名前-🔑');
      expect(read).toEqual(c);
      expect(read?.metadata).toEqual(metadata);
      expect(read?.tags).toEqual(['gold', 'éu']);
      expect(read?.plan).toBe('pro');
    });

    it('updates only the given fields, moves updatedAt, and refuses a taken name', async () => {
      const a = await store.consumers.create({ name: 'a', tags: ['t1'], plan: 'free', metadata: { k: 1 } });
      await store.consumers.create({ name: 'b' });
      const u = await store.consumers.update(a.id, { plan: 'pro' });
      expect(u).toMatchObject({ id: a.id, name: 'a', tags: ['t1'], plan: 'pro', metadata: { k: 1 } });
      expect(u.updatedAt.getTime()).toBeGreaterThan(a.updatedAt.getTime());
      expect(u.createdAt.getTime()).toBe(a.createdAt.getTime());
      expect(await store.consumers.get(a.id)).toEqual(u);
      const cleared = await store.consumers.update(a.id, { plan: null, tags: [], metadata: { m: 'x' }, name: 'a2' });
      expect(cleared).toMatchObject({ name: 'a2', plan: null, tags: [], metadata: { m: 'x' } });
      expect(await codeOf(store.consumers.update(a.id, { name: 'b' }))).toBe('STORE_CONFLICT');
      expect(await codeOf(store.consumers.update('cons_missing', { plan: 'x' }))).toBe('STORE_NOT_FOUND');
    });

    it('lists consumers by name in pages that neither repeat nor skip', async () => {
      const names = Array.from({ length: 23 }, (_, i) => `user-${String(i).padStart(2, '0')}`);
      for (const n of [...names].reverse()) await store.consumers.create({ name: n, tags: Number(n.slice(5)) % 3 === 0 ? ['third'] : [] });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<Store['consumers']['list']>> = await store.consumers.list({ limit: 5, cursor });
        expect(page.items.length).toBeLessThanOrEqual(5);
        seen.push(...page.items.map((c) => c.name));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(seen).toEqual(names);
      expect(pages).toBe(5);
      const all = await store.consumers.list();
      expect(all.items).toHaveLength(23);
      expect(all.nextCursor).toBeNull();
      const exact = await store.consumers.list({ limit: 23 });
      expect(exact.nextCursor).toBeNull();
    });

    it('filters the list by tag, across pages', async () => {
      await store.consumers.create({ name: 'a', tags: ['gold', 'eu'] });
      await store.consumers.create({ name: 'b', tags: ['silver'] });
      await store.consumers.create({ name: 'c', tags: ['gold'] });
      await store.consumers.create({ name: 'd', tags: ['golden'] });
      const first = await store.consumers.list({ tag: 'gold', limit: 1 });
      expect(first.items.map((c) => c.name)).toEqual(['a']);
      const second = await store.consumers.list({ tag: 'gold', limit: 1, cursor: first.nextCursor });
      expect(second.items.map((c) => c.name)).toEqual(['c']);
      expect(second.nextCursor === null || (await store.consumers.list({ tag: 'gold', cursor: second.nextCursor })).items.length === 0).toBe(true);
      expect((await store.consumers.list({ tag: 'none' })).items).toEqual([]);
    });

    it('creates credentials, finds them by (type, lookupId) and lists them per consumer', async () => {
      const c = await store.consumers.create({ name: 'alice' });
      const expiresAt = new Date(Date.now() + 86_400_000);
      const k1 = await store.credentials.create(key(c.id, 'kid1', { label: 'ci', scopes: ['read', 'write'], expiresAt, metadata: { env: 'prod' } }));
      expect(k1.id).toMatch(/^cred_[A-Za-z0-9_-]{22}$/);
      expect(k1).toMatchObject({ consumerId: c.id, type: 'api-key', label: 'ci', lookupId: 'kid1', secretHash: 'hash-of-kid1' });
      expect(k1).toMatchObject({ scopes: ['read', 'write'], revokedAt: null, graceUntil: null, lastUsedAt: null, metadata: { env: 'prod' } });
      expect(k1.expiresAt?.getTime()).toBe(expiresAt.getTime());
      const k2 = await store.credentials.create(key(c.id, 'kid1', { type: 'hmac' }));
      expect(k2.label).toBe('');
      expect(await store.credentials.get(k1.id)).toEqual(k1);
      expect(await store.credentials.findByLookup('api-key', 'kid1')).toEqual(k1);
      expect(await store.credentials.findByLookup('hmac', 'kid1')).toEqual(k2);
      expect(await store.credentials.findByLookup('basic', 'kid1')).toBeNull();
      const listed = await store.credentials.listByConsumer(c.id);
      expect(listed.map((k) => k.id).sort()).toEqual([k1.id, k2.id].sort());
      expect(listed[0]!.createdAt.getTime()).toBeLessThanOrEqual(listed[1]!.createdAt.getTime());
      expect(await store.credentials.listByConsumer('cons_missing')).toEqual([]);
    });

    it('refuses a duplicate (type, lookupId) and a credential for a missing consumer', async () => {
      const c = await store.consumers.create({ name: 'alice' });
      await store.credentials.create(key(c.id, 'kid'));
      expect(await codeOf(store.credentials.create(key(c.id, 'kid')))).toBe('STORE_CONFLICT');
      expect(await codeOf(store.credentials.create(key('cons_missing', 'other')))).toBe('STORE_NOT_FOUND');
    });

    it('revokes once (a second revoke keeps the first time) and sets and clears graceUntil', async () => {
      const c = await store.consumers.create({ name: 'alice' });
      const k = await store.credentials.create(key(c.id, 'kid'));
      const first = new Date(Date.now() - 1000);
      const r1 = await store.credentials.revoke(k.id, first);
      expect(r1.revokedAt?.getTime()).toBe(first.getTime());
      const r2 = await store.credentials.revoke(k.id);
      expect(r2.revokedAt?.getTime()).toBe(first.getTime());
      expect((await store.credentials.findByLookup('api-key', 'kid'))?.revokedAt?.getTime()).toBe(first.getTime());
      const until = new Date(Date.now() + 3_600_000);
      expect((await store.credentials.setGraceUntil(k.id, until)).graceUntil?.getTime()).toBe(until.getTime());
      expect((await store.credentials.setGraceUntil(k.id, null)).graceUntil).toBeNull();
      expect(await codeOf(store.credentials.revoke('cred_missing'))).toBe('STORE_NOT_FOUND');
      expect(await codeOf(store.credentials.setGraceUntil('cred_missing', until))).toBe('STORE_NOT_FOUND');
    });

    it('touches lastUsedAt for a batch in one call and never moves it backwards', async () => {
      const c = await store.consumers.create({ name: 'alice' });
      const ks = await Promise.all(['a', 'b', 'c'].map((l) => store.credentials.create(key(c.id, l))));
      const t1 = new Date(Date.now() - 60_000);
      expect(await store.credentials.touchLastUsed([ks[0]!.id, ks[1]!.id, ks[1]!.id, 'cred_missing'], t1)).toBe(2);
      expect((await store.credentials.get(ks[0]!.id))?.lastUsedAt?.getTime()).toBe(t1.getTime());
      expect((await store.credentials.get(ks[2]!.id))?.lastUsedAt).toBeNull();
      const earlier = new Date(t1.getTime() - 1000);
      expect(await store.credentials.touchLastUsed([ks[0]!.id], earlier)).toBe(0);
      expect((await store.credentials.get(ks[0]!.id))?.lastUsedAt?.getTime()).toBe(t1.getTime());
      expect(await store.credentials.touchLastUsed([])).toBe(0);
      const many = Array.from({ length: 2000 }, (_, i) => `cred_none_${i}`).concat(ks.map((k) => k.id));
      expect(await store.credentials.touchLastUsed(many)).toBe(3);
    });

    it('deletes a credential, and a consumer with all its credentials', async () => {
      const a = await store.consumers.create({ name: 'a' });
      const b = await store.consumers.create({ name: 'b' });
      const ka1 = await store.credentials.create(key(a.id, 'a1'));
      const ka2 = await store.credentials.create(key(a.id, 'a2', { type: 'basic' }));
      const kb = await store.credentials.create(key(b.id, 'b1'));
      expect(await store.credentials.delete(ka2.id)).toBe(true);
      expect(await store.credentials.delete(ka2.id)).toBe(false);
      expect(await store.consumers.delete(a.id)).toBe(true);
      expect(await store.consumers.get(a.id)).toBeNull();
      expect(await store.credentials.get(ka1.id)).toBeNull();
      expect(await store.credentials.findByLookup('api-key', 'a1')).toBeNull();
      expect(await store.credentials.listByConsumer(a.id)).toEqual([]);
      expect(await store.credentials.get(kb.id)).toEqual(kb);
      expect(await store.consumers.delete(a.id)).toBe(false);
      // The freed name and lookup id can be used again.
      const again = await store.consumers.create({ name: 'a' });
      await store.credentials.create(key(again.id, 'a1'));
    });

    it('keeps values that look like SQL as plain data', async () => {
      const name = "x'); DROP TABLE consumers; --";
      const c = await store.consumers.create({ name, tags: ["' OR 1=1 --"] });
      expect((await store.consumers.getByName(name))?.id).toBe(c.id);
      expect((await store.consumers.list({ tag: "' OR 1=1 --" })).items).toHaveLength(1);
      expect(await store.credentials.findByLookup('api-key', "' OR '1'='1")).toBeNull();
    });
      describe('usage (quotas, migration 003)', () => {
      it('adds a batch in one call, creating rows as needed, and returns the totals in order', async () => {
        expect(await store.usage.add([
          { consumerId: 'cons_a', period: 'quota:2026-11-23', count: 5 },
          { consumerId: 'cons_b', period: 'quota:2026-11-23', count: 2 },
        ])).toEqual([5, 2]);
        expect(await store.usage.add([{ consumerId: 'cons_a', period: 'quota:2026-11-23', count: 3 }])).toEqual([8]);
        expect(await store.usage.get('cons_a', 'quota:2026-11-23')).toBe(8);
        expect(await store.usage.get('cons_a', 'quota:2026-11-24')).toBe(0);
        expect(await store.usage.add([])).toEqual([]);
      });

      it('sums concurrent batches from several writers exactly', async () => {
        const one = { consumerId: 'cons_c', period: 'quota:2026-11', count: 1 };
        await Promise.all(Array.from({ length: 20 }, () => store.usage.add([one, { ...one, period: 'quota:2026-12' }])));
        expect(await store.usage.get('cons_c', 'quota:2026-11')).toBe(20);
        expect(await store.usage.get('cons_c', 'quota:2026-12')).toBe(20);
      });

      it('lists a consumer\'s periods latest first with the time of the last flush', async () => {
        const at = new Date('2026-11-23T10:00:00.000Z');
        await store.usage.add([{ consumerId: 'cons_d', period: 'quota:2026-11-22', count: 4 }], at);
        await store.usage.add([{ consumerId: 'cons_d', period: 'quota:2026-11-23', count: 7 }], at);
        await store.usage.add([{ consumerId: 'cons_other', period: 'quota:2026-11-23', count: 1 }], at);
        expect(await store.usage.listByConsumer('cons_d')).toEqual([
          { consumerId: 'cons_d', period: 'quota:2026-11-23', count: 7, updatedAt: at },
          { consumerId: 'cons_d', period: 'quota:2026-11-22', count: 4, updatedAt: at },
        ]);
      });

      it('refuses a non-positive or fractional count and changes nothing of the batch', async () => {
        const good = { consumerId: 'cons_e', period: 'quota:2026-11-23', count: 2 };
        for (const count of [0, -1, 1.5]) {
          expect(await codeOf(store.usage.add([good, { ...good, count }]))).toBe('STORE_INVALID');
        }
        expect(await store.usage.get('cons_e', 'quota:2026-11-23')).toBe(0);
      });
    });

    oauthStateContract(() => store);
  });
}

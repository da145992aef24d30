import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewAuditRow, Store } from '../../src/storage/types.js';
import { codeOf, type StoreFixture } from './contract.js';

const row = (seq: number, extra: Partial<NewAuditRow> = {}): NewAuditRow => ({
  seq,
  ts: 1_700_000_000_000 + seq * 1000,
  kind: 'decision',
  actor: seq % 2 === 0 ? 'cons_even' : null,
  route: seq % 3 === 0 ? 'orders' : 'users',
  outcome: 'deny',
  hash: `h${seq}`,
  body: `{"seq":${seq},"text":"line\\nbreak"}`,
  ...extra,
});

/** The audit area (migration 004), on every backend: run from runStoreContract. */
export function runAuditContract(name: string, factory: () => Promise<StoreFixture>): void {
  describe(`Store contract (audit): ${name}`, () => {
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

    it('appends batches after the head it hands to the builder, in storage order', async () => {
      const heads: unknown[] = [];
      const first = await store.audit.append((head) => (heads.push(head), [row(1), row(2)]));
      expect(first.map((r) => r.position)).toEqual([1, 2]);
      await store.audit.append((head) => (heads.push(head), [row(3)]));
      expect(heads).toEqual([null, { position: 2, seq: 2, hash: 'h2' }]);
      expect(await store.audit.head()).toEqual({ position: 3, seq: 3, hash: 'h3' });
      const all = await store.audit.list();
      expect(all.map((r) => r.seq)).toEqual([1, 2, 3]);
      // The body is kept byte for byte: verification hashes exactly what was written.
      expect(all[0]!.body).toBe('{"seq":1,"text":"line\\nbreak"}');
      expect(all[0]).toMatchObject({ position: 1, ts: 1_700_000_001_000, kind: 'decision', actor: null, route: 'users', outcome: 'deny' });
    });

    it('serialises concurrent appends into one unbroken sequence', async () => {
      const append = () => store.audit.append((head) => [row((head?.seq ?? 0) + 1, { hash: `h${(head?.seq ?? 0) + 1}` })]);
      await Promise.all(Array.from({ length: 12 }, append));
      const all = await store.audit.list();
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(all.map((r) => r.position)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    });

    it('writes nothing when the builder fails, and the head stays', async () => {
      await store.audit.append(() => [row(1)]);
      await expect(store.audit.append(() => { throw new Error('builder failed'); })).rejects.toThrow();
      expect(await store.audit.head()).toEqual({ position: 1, seq: 1, hash: 'h1' });
    });

    it('filters by time, actor, route, outcome and kind, and pages by position', async () => {
      await store.audit.append(() => Array.from({ length: 9 }, (_, i) => row(i + 1, i === 8 ? { kind: 'checkpoint', outcome: 'signed' } : {})));
      const seqs = async (q: Parameters<Store['audit']['list']>[0]) => (await store.audit.list(q)).map((r) => r.seq);
      expect(await seqs({ since: 1_700_000_003_000, until: 1_700_000_005_000 })).toEqual([3, 4, 5]);
      expect(await seqs({ actor: 'cons_even' })).toEqual([2, 4, 6, 8]);
      expect(await seqs({ route: 'orders', outcome: 'deny' })).toEqual([3, 6]);
      expect(await seqs({ kind: 'checkpoint' })).toEqual([9]);
      expect(await seqs({ afterPosition: 6, limit: 2 })).toEqual([7, 8]);
      expect(await codeOf(store.audit.list({ limit: 0 }))).toBe('STORE_INVALID');
    });

    it('finds the last checkpoint before a position and time, counts, and deletes before a position', async () => {
      await store.audit.append(() => [row(1), row(2, { kind: 'checkpoint' }), row(3), row(4, { kind: 'checkpoint' }), row(5)]);
      expect((await store.audit.lastCheckpoint(5, Number.MAX_SAFE_INTEGER))?.seq).toBe(4);
      expect((await store.audit.lastCheckpoint(3, Number.MAX_SAFE_INTEGER))?.seq).toBe(2);
      expect((await store.audit.lastCheckpoint(5, 1_700_000_003_000))?.seq).toBe(2);
      expect(await store.audit.lastCheckpoint(1, Number.MAX_SAFE_INTEGER)).toBeNull();
      expect(await store.audit.count()).toBe(5);
      expect(await store.audit.deleteBefore(4)).toBe(3);
      expect((await store.audit.list()).map((r) => r.position)).toEqual([4, 5]);
      // Appends go on after the head, whatever was cut at the front.
      const [next] = await store.audit.append(() => [row(6)]);
      expect(next!.position).toBe(6);
    });
  });
}

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditLogOptions } from '../../src/audit/audit-log.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { FileAuditSink } from '../../src/audit/sinks/file.js';
import { StoreAuditSink } from '../../src/audit/sinks/store.js';
import type { AuditSink } from '../../src/audit/sinks/types.js';
import { verifyChain } from '../../src/audit/verify.js';
import { silentLogger } from '../../src/observability/logger.js';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { makeContext } from '../helpers/context.js';
import { entry, newSigner, scratchDir, T0 } from './helpers.js';

const scratch = scratchDir();
afterAll(() => scratch.remove());
const { signer } = newSigner();
let n = 0;

const OPTIONS: AuditLogOptions = {
  flushIntervalMs: 3_600_000, // tests flush by hand
  maxBatch: 100,
  maxQueue: 1000,
  checkpointEvery: 10,
  checkpointIntervalMs: 60_000,
  retention: { checkIntervalMs: 3_600_000 },
  include: { monitor: true, notFound: false },
};

function setup(options: Partial<AuditLogOptions> = {}, sink: AuditSink = new FileAuditSink(join(scratch.dir, `log-${++n}.jsonl`))) {
  const clock = { now: T0 };
  const log = new AuditLog(sink, signer, { ...OPTIONS, ...options }, { logger: silentLogger(), now: () => clock.now });
  const records = async () => {
    const out: AuditRecord[] = [];
    for await (const r of sink.query({})) out.push(r);
    return out;
  };
  return { log, sink, clock, records };
}

describe('AuditLog', () => {
  it('writes nothing on record(), then one linked batch on flush', async () => {
    const { log, records } = setup();
    for (let i = 1; i <= 5; i++) log.record(entry(i));
    expect(await records()).toEqual([]);
    await log.flush();
    const written = await records();
    expect(written.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(written[1]!.prev).toBe(written[0]!.hash);
    await log.close();
  });

  it('adds a signed checkpoint after everyRecords, after the interval, and on close', async () => {
    const { log, sink, clock, records } = setup();
    for (let i = 1; i <= 10; i++) log.record(entry(i));
    await log.flush();
    expect((await records()).map((r) => r.kind).filter((k) => k === 'checkpoint')).toHaveLength(1);
    log.record(entry(11));
    await log.flush();
    expect((await records()).at(-1)!.kind).toBe('decision');
    clock.now += 61_000;
    log.record(entry(12));
    await log.flush();
    expect((await records()).at(-1)!.kind).toBe('checkpoint');
    log.record(entry(13));
    await log.close();
    const all = await records();
    expect(all.at(-1)).toMatchObject({ kind: 'checkpoint', detail: { keyId: 'test-key', covers: all.length - 1 } });
    expect(await verifyChain(sink.read(), signer.publicKey)).toMatchObject({ ok: true, unsignedTail: 0, checkpoints: 3 });
  });

  it('keeps entries queued while the sink fails and writes them, in order, once it works', async () => {
    let failing = true;
    const file = new FileAuditSink(join(scratch.dir, `flaky-${++n}.jsonl`));
    const flaky: AuditSink = Object.assign(Object.create(file) as FileAuditSink, {
      append: (build: Parameters<AuditSink['append']>[0]) => (failing ? Promise.reject(new Error('disk gone')) : file.append(build)),
    });
    const { log, records } = setup({}, flaky);
    log.record(entry(1));
    await log.flush();
    log.record(entry(2));
    await log.flush();
    expect(await records()).toEqual([]);
    failing = false;
    await log.flush();
    expect((await records()).map((r) => r.requestId)).toEqual(['req-1', 'req-2']);
    await log.close();
  });

  it('drops the oldest entries beyond maxQueue and counts them', async () => {
    const { log, records } = setup({ maxQueue: 100, maxBatch: 1000 });
    for (let i = 1; i <= 150; i++) log.record(entry(i));
    expect(log.dropped).toBe(50);
    await log.flush();
    expect((await records())[0]!.requestId).toBe('req-51');
    await log.close();
  });

  it('records denials and monitor hits of a request with who, where, what and which rule, and nothing for an allowed one', async () => {
    const { log, records } = setup();
    const allowed = makeContext({ url: '/ok', clientIp: '198.51.100.1' });
    log.observe(allowed);
    const denied = makeContext({ method: 'DELETE', url: '/orders/9', clientIp: '198.51.100.2' });
    denied.path = '/orders/9';
    denied.route = { name: 'orders', methods: undefined };
    denied.principal = { consumerId: 'cons_bob', method: 'api-key' };
    denied.decision = { outcome: 'deny', policy: 'authorize', code: 'GW_AUTHZ_FORBIDDEN' as never, reason: 'missing scope orders:write' };
    denied.recordMonitorHit({ policy: 'waf', code: 'GW_WAF_BLOCKED' as never, reason: 'rule 942100' });
    denied.status = 403;
    denied.traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    log.observe(denied);
    await log.flush();
    const [deny, monitor] = await records();
    expect(deny).toMatchObject({
      kind: 'decision', action: 'request.deny', outcome: 'deny', actor: 'cons_bob', source: '198.51.100.2',
      target: 'DELETE /orders/9', route: 'orders', policy: 'authorize', reason: 'missing scope orders:write', detail: { status: 403, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
    });
    expect(monitor).toMatchObject({ action: 'request.monitor', outcome: 'monitor', policy: 'waf', reason: 'rule 942100' });
    expect(await records()).toHaveLength(2);
    await log.close();
  });
});

describe('audit retention', () => {
  const retentionCases: [string, () => AuditSink][] = [
    ['file', () => new FileAuditSink(join(scratch.dir, `ret-${++n}.jsonl`))],
    ['SQLite store', () => { const store = SqliteStore.open({ path: ':memory:' }); return new StoreAuditSink(async () => store); }],
  ];
  for (const [name, makeSink] of retentionCases) {
    it(`removes records by age at a checkpoint and the chain still verifies from that anchor (${name})`, async () => {
      const { log, sink, clock } = setup({ checkpointEvery: 5, retention: { maxAgeMs: 3_600_000, checkIntervalMs: 3_600_000 } }, makeSink());
      for (let batch = 0; batch < 4; batch++) {
        for (let i = 0; i < 5; i++) log.record({ ...entry(batch * 5 + i), ts: clock.now });
        await log.flush();
        clock.now += 1_800_000;
      }
      // Now T0+2h, cutoff T0+1h: checkpoints at T0, T0+30m and T0+1h (seq 6, 12, 18) are old enough;
      // everything before the latest of them goes, and it stays as the anchor.
      expect(await log.retain()).toBe(17);
      const result = await verifyChain(sink.read(), signer.publicKey);
      expect(result).toMatchObject({ ok: true, anchored: true, firstSeq: 18, lastSeq: 24 });
      log.record(entry(99));
      await log.close();
      expect(await verifyChain(sink.read(), signer.publicKey)).toMatchObject({ ok: true, anchored: true, lastSeq: 26 });
    });

    it(`keeps at most maxRecords, cutting at a checkpoint (${name})`, async () => {
      const { log, sink } = setup({ checkpointEvery: 5, retention: { maxRecords: 8, checkIntervalMs: 3_600_000 } }, makeSink());
      for (let i = 0; i < 20; i++) {
        log.record(entry(i));
        if (i % 5 === 4) await log.flush();
      }
      await log.retain();
      const result = await verifyChain(sink.read(), signer.publicKey);
      expect(result.ok).toBe(true);
      expect(result.records).toBeLessThanOrEqual(8);
      expect(result).toMatchObject({ anchored: true, lastSeq: 24 });
      await log.close();
    });
  }
});

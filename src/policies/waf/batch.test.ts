import { describe, expect, it } from 'vitest';
import { TurnBatch } from './batch.js';

describe('TurnBatch', () => {
  it('runs the jobs of one turn back to back, in order, after the code that queued them', async () => {
    const batch = new TurnBatch();
    const log: string[] = [];
    const results = [1, 2, 3].map((n) =>
      batch.run(() => {
        log.push(`job ${n}`);
        // A microtask queued by a job runs after the whole batch: no other work came in between.
        queueMicrotask(() => log.push(`microtask of ${n}`));
        return n * 10;
      }),
    );
    expect(log).toEqual([]);
    expect(batch.pending).toBe(3);
    expect(await Promise.all(results)).toEqual([10, 20, 30]);
    expect(log).toEqual(['job 1', 'job 2', 'job 3', 'microtask of 1', 'microtask of 2', 'microtask of 3']);
    expect(batch.pending).toBe(0);
  });

  it('rejects only the job that threw; the others of its batch still run and resolve', async () => {
    const batch = new TurnBatch();
    const boom = new Error('boom');
    const settled = await Promise.allSettled([
      batch.run(() => 'first'),
      batch.run(() => {
        throw boom;
      }),
      batch.run(() => 'third'),
    ]);
    expect(settled).toEqual([
      { status: 'fulfilled', value: 'first' },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 'third' },
    ]);
  });

  it('puts a job queued while a batch runs into the next batch, and keeps serving later turns', async () => {
    const batch = new TurnBatch();
    const log: string[] = [];
    let inner: Promise<string> | undefined;
    await batch.run(() => {
      inner = batch.run(() => {
        log.push('inner');
        return 'inner done';
      });
      log.push('outer');
      // Not run inside this batch: it waits for the next check phase.
      expect(batch.pending).toBe(1);
    });
    expect(await inner).toBe('inner done');
    expect(log).toEqual(['outer', 'inner']);
    // A later turn gets a batch of its own.
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(await batch.run(() => 'later')).toBe('later');
  });
});

import type pg from 'pg';
import type { ErrorSubject } from '../errors.js';
import type { UsageIncrement, UsageRecord, UsageRepository } from '../types.js';
import { checkIncrements } from '../usage-validate.js';
import { guard, inTransaction } from './errors.js';

const SUBJECT: ErrorSubject = { entity: 'usage' };

export class PostgresUsage implements UsageRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * One upsert per row inside one transaction, in a fixed order (by consumer, then period) so two
   * gateways flushing overlapping batches lock rows in the same order and cannot deadlock.
   */
  async add(increments: readonly UsageIncrement[], at = new Date()): Promise<number[]> {
    checkIncrements(increments);
    if (increments.length === 0) return [];
    const order = increments.map((_, i) => i).sort((a, b) => {
      const x = increments[a]!;
      const y = increments[b]!;
      return x.consumerId < y.consumerId ? -1 : x.consumerId > y.consumerId ? 1 : x.period < y.period ? -1 : x.period > y.period ? 1 : 0;
    });
    return inTransaction(this.pool, SUBJECT, async (client) => {
      const totals = new Array<number>(increments.length);
      for (const i of order) {
        const inc = increments[i]!;
        const { rows } = await client.query<{ count: string }>(
          `INSERT INTO quota_usage (consumer_id, period, count, updated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (consumer_id, period) DO UPDATE SET count = quota_usage.count + excluded.count, updated_at = excluded.updated_at
           RETURNING count`,
          [inc.consumerId, inc.period, inc.count, at],
        );
        totals[i] = Number(rows[0]!.count);
      }
      return totals;
    });
  }

  async get(consumerId: string, period: string): Promise<number> {
    const { rows } = await guard(SUBJECT, () =>
      this.pool.query<{ count: string }>('SELECT count FROM quota_usage WHERE consumer_id = $1 AND period = $2', [consumerId, period]),
    );
    return rows.length === 0 ? 0 : Number(rows[0]!.count);
  }

  async listByConsumer(consumerId: string): Promise<UsageRecord[]> {
    const { rows } = await guard(SUBJECT, () =>
      this.pool.query<{ consumer_id: string; period: string; count: string; updated_at: Date }>(
        'SELECT * FROM quota_usage WHERE consumer_id = $1 ORDER BY period DESC',
        [consumerId],
      ),
    );
    return rows.map((r) => ({ consumerId: r.consumer_id, period: r.period, count: Number(r.count), updatedAt: r.updated_at }));
  }
}

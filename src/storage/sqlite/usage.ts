import type { Database, Statement } from 'better-sqlite3';
import type { ErrorSubject } from '../errors.js';
import type { UsageIncrement, UsageRecord, UsageRepository } from '../types.js';
import { checkIncrements } from '../usage-validate.js';
import { guard } from './errors.js';

const SUBJECT: ErrorSubject = { entity: 'usage' };

interface UsageRow {
  consumer_id: string;
  period: string;
  count: number;
  updated_at: number;
}

export class SqliteUsage implements UsageRepository {
  private readonly upsert: Statement<[string, string, number, number], { count: number }>;
  private readonly one: Statement<[string, string], { count: number }>;
  private readonly all: Statement<[string], UsageRow>;
  private readonly addAll: (increments: readonly UsageIncrement[], at: number) => number[];

  constructor(db: Database) {
    this.upsert = db.prepare(
      `INSERT INTO quota_usage (consumer_id, period, count, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (consumer_id, period) DO UPDATE SET count = count + excluded.count, updated_at = excluded.updated_at
       RETURNING count`,
    );
    this.one = db.prepare('SELECT count FROM quota_usage WHERE consumer_id = ? AND period = ?');
    this.all = db.prepare('SELECT * FROM quota_usage WHERE consumer_id = ? ORDER BY period DESC');
    this.addAll = db.transaction((increments: readonly UsageIncrement[], at: number) =>
      increments.map((i) => this.upsert.get(i.consumerId, i.period, i.count, at)!.count),
    );
  }

  async add(increments: readonly UsageIncrement[], at = new Date()): Promise<number[]> {
    checkIncrements(increments);
    return guard(SUBJECT, () => this.addAll(increments, at.getTime()));
  }

  async get(consumerId: string, period: string): Promise<number> {
    return guard(SUBJECT, () => this.one.get(consumerId, period)?.count ?? 0);
  }

  async listByConsumer(consumerId: string): Promise<UsageRecord[]> {
    return guard(SUBJECT, () =>
      this.all.all(consumerId).map((r) => ({ consumerId: r.consumer_id, period: r.period, count: r.count, updatedAt: new Date(r.updated_at) })),
    );
  }
}

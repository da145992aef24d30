import type pg from 'pg';
import { notFound, type ErrorSubject } from '../errors.js';
import type { Consumer, ConsumerPatch, ConsumerRepository, ListConsumersOptions, NewConsumer, Page } from '../types.js';
import { applyConsumerPatch, checkLimit, checkNewConsumer, decodeCursor, encodeCursor, newId } from '../validate.js';
import { guard, inTransaction } from './errors.js';
import { toConsumer, type ConsumerRow } from './rows.js';

const SUBJECT: ErrorSubject = { entity: 'consumer', conflict: 'name' };

export class PostgresConsumers implements ConsumerRepository {
  constructor(private readonly pool: pg.Pool) {}

  async create(input: NewConsumer): Promise<Consumer> {
    const c = checkNewConsumer(input);
    const now = new Date();
    const id = newId('cons');
    await guard(SUBJECT, () =>
      this.pool.query(
        'INSERT INTO consumers (id, name, tags, plan, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)',
        // metadata as text: pg would turn a JS array inside it into a PostgreSQL array literal.
        [id, c.name, c.tags, c.plan, JSON.stringify(c.metadata), now],
      ),
    );
    return { id, ...c, createdAt: now, updatedAt: now };
  }

  async get(id: string): Promise<Consumer | null> {
    return this.one('SELECT * FROM consumers WHERE id = $1', id);
  }

  async getByName(name: string): Promise<Consumer | null> {
    return this.one('SELECT * FROM consumers WHERE name = $1', name);
  }

  async list(options: ListConsumersOptions = {}): Promise<Page<Consumer>> {
    const limit = checkLimit(options.limit);
    const after = decodeCursor(options.cursor);
    // One extra row tells whether another page exists without a COUNT; `tags @> ARRAY[tag]` uses the GIN index.
    const { rows } = await guard(SUBJECT, () =>
      this.pool.query<ConsumerRow>(
        `SELECT * FROM consumers
         WHERE ($1::text IS NULL OR name > $1) AND ($2::text IS NULL OR tags @> ARRAY[$2::text])
         ORDER BY name LIMIT $3`,
        [after, options.tag ?? null, limit + 1],
      ),
    );
    const items = rows.slice(0, limit).map(toConsumer);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.name) : null };
  }

  async update(id: string, patch: ConsumerPatch): Promise<Consumer> {
    // Read and write under a row lock, so two patches of different fields cannot undo each other.
    return inTransaction(this.pool, SUBJECT, async (client) => {
      const { rows } = await client.query<ConsumerRow>('SELECT * FROM consumers WHERE id = $1 FOR UPDATE', [id]);
      if (!rows[0]) throw notFound('consumer');
      const current = toConsumer(rows[0]);
      const next = applyConsumerPatch({ ...current, tags: [...current.tags] }, patch);
      // Strictly later than before, even within the same millisecond, so "changed since" checks work.
      const now = new Date(Math.max(Date.now(), current.updatedAt.getTime() + 1));
      await client.query('UPDATE consumers SET name = $1, tags = $2, plan = $3, metadata = $4, updated_at = $5 WHERE id = $6', [
        next.name,
        next.tags,
        next.plan,
        JSON.stringify(next.metadata),
        now,
        id,
      ]);
      return { id, ...next, createdAt: current.createdAt, updatedAt: now };
    });
  }

  async delete(id: string): Promise<boolean> {
    // ON DELETE CASCADE removes the credentials in the same statement.
    const result = await guard(SUBJECT, () => this.pool.query('DELETE FROM consumers WHERE id = $1', [id]));
    return (result.rowCount ?? 0) > 0;
  }

  private async one(sql: string, value: string): Promise<Consumer | null> {
    const { rows } = await guard(SUBJECT, () => this.pool.query<ConsumerRow>(sql, [value]));
    return rows[0] ? toConsumer(rows[0]) : null;
  }
}

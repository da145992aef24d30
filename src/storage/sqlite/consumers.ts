import type { Database, Statement } from 'better-sqlite3';
import { notFound, type ErrorSubject } from '../errors.js';
import type { Consumer, ConsumerPatch, ConsumerRepository, ListConsumersOptions, NewConsumer, Page } from '../types.js';
import { applyConsumerPatch, checkLimit, checkNewConsumer, decodeCursor, encodeCursor, newId } from '../validate.js';
import { toConsumer, type ConsumerRow } from './rows.js';
import { guard } from './errors.js';

const SUBJECT: ErrorSubject = { entity: 'consumer', conflict: 'name' };

export class SqliteConsumers implements ConsumerRepository {
  private readonly insert: Statement;
  private readonly byId: Statement<[string], ConsumerRow>;
  private readonly byName: Statement<[string], ConsumerRow>;
  private readonly page: Statement<[{ after: string | null; limit: number }], ConsumerRow>;
  private readonly pageByTag: Statement<[{ tag: string; after: string | null; limit: number }], ConsumerRow>;
  private readonly change: Statement;
  private readonly remove: Statement<[string]>;

  constructor(db: Database) {
    this.insert = db.prepare(
      'INSERT INTO consumers (id, name, tags, plan, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.byId = db.prepare('SELECT * FROM consumers WHERE id = ?');
    this.byName = db.prepare('SELECT * FROM consumers WHERE name = ?');
    // `@after IS NULL OR name > @after`: one statement serves the first page and the following ones.
    this.page = db.prepare('SELECT * FROM consumers WHERE (@after IS NULL OR name > @after) ORDER BY name LIMIT @limit');
    this.pageByTag = db.prepare(
      `SELECT * FROM consumers
       WHERE EXISTS (SELECT 1 FROM json_each(consumers.tags) WHERE json_each.value = @tag)
         AND (@after IS NULL OR name > @after)
       ORDER BY name LIMIT @limit`,
    );
    this.change = db.prepare('UPDATE consumers SET name = ?, tags = ?, plan = ?, metadata = ?, updated_at = ? WHERE id = ?');
    this.remove = db.prepare('DELETE FROM consumers WHERE id = ?');
  }

  async create(input: NewConsumer): Promise<Consumer> {
    const c = checkNewConsumer(input);
    const now = Date.now();
    const id = newId('cons');
    guard(SUBJECT, () => this.insert.run(id, c.name, JSON.stringify(c.tags), c.plan, JSON.stringify(c.metadata), now, now));
    return { id, ...c, createdAt: new Date(now), updatedAt: new Date(now) };
  }

  async get(id: string): Promise<Consumer | null> {
    const row = guard(SUBJECT, () => this.byId.get(id));
    return row ? toConsumer(row) : null;
  }

  async getByName(name: string): Promise<Consumer | null> {
    const row = guard(SUBJECT, () => this.byName.get(name));
    return row ? toConsumer(row) : null;
  }

  async list(options: ListConsumersOptions = {}): Promise<Page<Consumer>> {
    const limit = checkLimit(options.limit);
    const after = decodeCursor(options.cursor);
    // One extra row tells whether another page exists without a COUNT.
    const rows = guard(SUBJECT, () =>
      options.tag === undefined
        ? this.page.all({ after, limit: limit + 1 })
        : this.pageByTag.all({ tag: options.tag, after, limit: limit + 1 }),
    );
    const items = rows.slice(0, limit).map(toConsumer);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.name) : null };
  }

  async update(id: string, patch: ConsumerPatch): Promise<Consumer> {
    const row = guard(SUBJECT, () => this.byId.get(id));
    if (!row) throw notFound('consumer');
    const current = toConsumer(row);
    const next = applyConsumerPatch({ ...current, tags: [...current.tags] }, patch);
    // Strictly later than before, even within the same millisecond, so "changed since" checks work.
    const now = Math.max(Date.now(), current.updatedAt.getTime() + 1);
    const result = guard(SUBJECT, () =>
      this.change.run(next.name, JSON.stringify(next.tags), next.plan, JSON.stringify(next.metadata), now, id),
    );
    if (result.changes === 0) throw notFound('consumer');
    return { id, ...next, createdAt: current.createdAt, updatedAt: new Date(now) };
  }

  async delete(id: string): Promise<boolean> {
    // ON DELETE CASCADE (foreign_keys is on) removes the credentials in the same statement.
    return guard(SUBJECT, () => this.remove.run(id)).changes > 0;
  }
}

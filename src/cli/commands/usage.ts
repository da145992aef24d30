import type { ParsedArgs } from '../args.js';
import { CliError, findConsumer, fmtDate, table, UsageError, withStore } from '../store-context.js';

const USAGE = 'usage: portcullis usage NAME|ID [--config FILE]';

/**
 * `portcullis usage CONSUMER`: the consumer's quota counts per period, as flushed to the Store. A
 * running gateway adds its counts every `quota.flushInterval`, so the latest few seconds may be missing.
 */
export async function usageCommand(args: ParsedArgs): Promise<number> {
  const [target] = args.positionals;
  return withStore(args, USAGE, async ({ store }) => {
    if (target === undefined) throw new UsageError('usage: missing consumer NAME or ID');
    // A JWT subject is not in the consumers table: its id is used as given.
    const consumer = await findConsumer(store, target).catch((error: unknown) => {
      if (error instanceof CliError) return undefined;
      throw error;
    });
    const id = consumer?.id ?? target;
    const records = await store.usage.listByConsumer(id);
    const who = consumer === undefined ? id : `${consumer.name} (${consumer.id})${consumer.plan === null ? '' : `, plan ${consumer.plan}`}`;
    if (records.length === 0) {
      process.stdout.write(`no quota usage recorded for ${who}\n`);
      return;
    }
    const rows = [['QUOTA', 'PERIOD', 'REQUESTS', 'UPDATED']];
    for (const r of records) {
      const at = r.period.lastIndexOf(':');
      rows.push([r.period.slice(0, at), r.period.slice(at + 1), String(r.count), fmtDate(r.updatedAt)]);
    }
    process.stdout.write(`quota usage of ${who}\n` + table(rows));
  });
}

import type { ParsedArgs } from '../args.js';
import { stringFlag } from '../args.js';
import { CliError, findConsumer, fmtDate, repeatedFlag, table, UsageError, withStore } from '../store-context.js';

const USAGE = `usage: portcullis consumers create NAME [--tag T]... [--plan P] [--config FILE]
       portcullis consumers list [--tag T] [--config FILE]
       portcullis consumers show NAME|ID [--config FILE]
       portcullis consumers delete NAME|ID [--config FILE]`;

/** `portcullis consumers create|list|show|delete`, against the Store of the gateway config. */
export async function consumersCommand(args: ParsedArgs, argv: readonly string[]): Promise<number> {
  const [sub, target] = args.positionals;
  return withStore(args, USAGE, async ({ store, broadcast, audit }) => {
    const need = () => {
      if (target === undefined) throw new UsageError(`consumers ${sub}: missing NAME`);
      return target;
    };
    switch (sub) {
      case 'create': {
        const consumer = await store.consumers.create({ name: need(), tags: repeatedFlag(argv, 'tag'), plan: stringFlag(args, 'plan') ?? null });
        audit({ action: 'consumer.create', target: consumer.id, detail: { name: consumer.name } });
        process.stdout.write(`created consumer ${consumer.name} (${consumer.id})\n`);
        return;
      }
      case 'list': {
        const rows = [['ID', 'NAME', 'PLAN', 'TAGS', 'CREATED']];
        const tag = stringFlag(args, 'tag');
        let cursor: string | null = null;
        do {
          const page = await store.consumers.list({ limit: 1000, cursor, ...(tag === undefined ? {} : { tag }) });
          for (const c of page.items) rows.push([c.id, c.name, c.plan ?? '-', c.tags.join(',') || '-', fmtDate(c.createdAt)]);
          cursor = page.nextCursor;
        } while (cursor !== null);
        process.stdout.write(table(rows));
        return;
      }
      case 'show': {
        const c = await findConsumer(store, need());
        const keys = (await store.credentials.listByConsumer(c.id)).filter((k) => k.type === 'api-key');
        process.stdout.write(
          `id:        ${c.id}\nname:      ${c.name}\nplan:      ${c.plan ?? '-'}\ntags:      ${c.tags.join(', ') || '-'}\n` +
            `metadata:  ${JSON.stringify(c.metadata)}\ncreated:   ${fmtDate(c.createdAt)}\nupdated:   ${fmtDate(c.updatedAt)}\n` +
            `api keys:  ${keys.length} (portcullis keys list ${c.name})\n`,
        );
        return;
      }
      case 'delete': {
        const c = await findConsumer(store, need());
        const keyIds = (await store.credentials.listByConsumer(c.id)).filter((k) => k.type === 'api-key').map((k) => k.lookupId);
        if (!(await store.consumers.delete(c.id))) throw new CliError(`consumer ${c.name} was already deleted`);
        await broadcast(keyIds);
        audit({ action: 'consumer.delete', target: c.id, detail: { name: c.name, apiKeys: keyIds } });
        process.stdout.write(`deleted consumer ${c.name} (${c.id}) and its ${keyIds.length} api key(s)\n`);
        return;
      }
      default:
        throw new UsageError(sub === undefined ? 'consumers: missing subcommand' : `consumers: unknown subcommand "${sub}"`);
    }
  });
}

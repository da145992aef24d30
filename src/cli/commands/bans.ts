import { BanList } from '../../anomaly/bans.js';
import { auditChanges } from '../../audit/cli-record.js';
import { loadConfigFile } from '../../config/load.js';
import { openStateStore } from '../../state/open.js';
import { openStore } from '../../storage/open.js';
import type { Store } from '../../storage/types.js';
import { stringFlag, type ParsedArgs } from '../args.js';
import { CliError, DEFAULT_CONFIG, exitCodeFor, fmtDate, table, UsageError } from '../store-context.js';

const USAGE = `usage: portcullis bans list [--config FILE]
       portcullis bans lift IP [--config FILE]`;

/**
 * `portcullis bans list|lift` against the StateStore of the gateway config (Redis reaches every
 * gateway; with the memory backend a separate CLI process sees nothing, and says so).
 */
export async function bansCommand(args: ParsedArgs): Promise<number> {
  const [sub, target] = args.positionals;
  try {
    if (sub !== 'list' && sub !== 'lift') throw new UsageError(sub === undefined ? 'bans: missing subcommand' : `bans: unknown subcommand "${sub}"`);
    const loaded = loadConfigFile(stringFlag(args, 'config') ?? DEFAULT_CONFIG);
    if (loaded.config.state?.backend !== 'redis') throw new CliError('bans live in each gateway process with the memory state backend; configure state.backend: redis to list or lift them');
    const state = await openStateStore(loaded.config);
    try {
      // Periods do not matter for listing and lifting.
      const bans = new BanList(async () => state, { initialMs: 1, multiplier: 1, maxMs: 1, memoryMs: 1 }, Date.now);
      if (sub === 'list') {
        const rows = [['SUBJECT', 'SINCE', 'UNTIL', 'STRIKE', 'DETECTOR', 'REASON']];
        for (const b of await bans.list()) rows.push([b.subject, fmtDate(new Date(b.since)), fmtDate(new Date(b.until)), String(b.strike), b.detector, b.reason]);
        process.stdout.write(table(rows));
        return 0;
      }
      if (target === undefined) throw new UsageError('bans lift: missing IP');
      const subject = target.startsWith('ip:') ? target : `ip:${target}`;
      if (!(await bans.lift(subject))) throw new CliError(`no live ban on ${subject}`);
      let store: Promise<Store> | undefined;
      try {
        await auditChanges(loaded, () => (store ??= openStore(loaded.config, loaded.dir)), [{ action: 'ban.lift', target: subject }]);
      } finally {
        if (store !== undefined) await (await store).close();
      }
      process.stdout.write(`lifted the ban on ${subject}\n`);
      return 0;
    } finally {
      await state.close();
    }
  } catch (error) {
    // Operational failures (file, key, store, Redis) are expected here: one line, exit 1.
    return exitCodeFor(error, USAGE, (e): e is Error => e instanceof Error);
  }
}

import type { KeyObject } from 'node:crypto';
import { loadConfigFile } from '../../config/load.js';
import { openAuditSink, openSigner, resolvePath } from '../../audit/open.js';
import { encodeRecord } from '../../audit/record.js';
import { loadPublicKey } from '../../audit/signer.js';
import type { AuditFilter } from '../../audit/sinks/types.js';
import { verifyChain } from '../../audit/verify.js';
import { openStore } from '../../storage/open.js';
import type { Store } from '../../storage/types.js';
import { stringFlag, type ParsedArgs } from '../args.js';
import { CliError, DEFAULT_CONFIG, exitCodeFor, parseCliDuration, UsageError } from '../store-context.js';

const USAGE = `usage: portcullis audit verify [--public-key PEM] [--config FILE]
       portcullis audit export [--since T] [--until T] [--consumer ID] [--route NAME] [--outcome O] [--kind K] [--config FILE]
  T is an ISO 8601 time or an age such as 15m, 24h, 7d`;

/** Exit code of `audit verify` when the chain is broken, apart from 1 (could not check at all). */
export const TAMPERED_EXIT = 3;

/** `2026-01-01T00:00:00Z`, or an age back from now (`24h`). */
function parseTime(flag: string, value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^[0-9]+(s|m|h|d)$/.test(value)) return now - parseCliDuration(flag, value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--${flag}: expected an ISO 8601 time or an age such as 24h`);
  return ms;
}

/** `portcullis audit verify|export`, against the sink of the gateway config's `audit` section. */
export async function auditCommand(args: ParsedArgs): Promise<number> {
  const [sub] = args.positionals;
  let store: Promise<Store> | undefined;
  try {
    if (sub !== 'verify' && sub !== 'export') throw new UsageError(sub === undefined ? 'audit: missing subcommand' : `audit: unknown subcommand "${sub}"`);
    const loaded = loadConfigFile(stringFlag(args, 'config') ?? DEFAULT_CONFIG);
    const config = loaded.config.audit;
    if (config === undefined) throw new CliError('the config has no audit section');
    const sink = openAuditSink(config, loaded.dir, () => (store ??= openStore(loaded.config, loaded.dir)));
    if (sub === 'verify') {
      const keyFlag = stringFlag(args, 'public-key');
      const key: KeyObject = keyFlag !== undefined ? loadPublicKey(resolvePath(process.cwd(), keyFlag)) : openSigner(config, loaded.dir).publicKey;
      const result = await verifyChain(sink.read(), key);
      if (!result.ok) {
        const p = result.problem!;
        process.stdout.write(`TAMPERED: ${p.kind} record at ${sink.name === 'file' ? 'line' : 'position'} ${p.position}${p.seq === null ? '' : ` (seq ${p.seq})`}: ${p.message}\n`);
        return TAMPERED_EXIT;
      }
      const range = result.records === 0 ? 'no records' : `seq ${result.firstSeq}..${result.lastSeq}${result.anchored ? ' (anchored at a signed checkpoint after retention)' : ''}`;
      process.stdout.write(`ok: ${result.records} records, ${result.checkpoints} signed checkpoints, ${range}\n`);
      if (result.unsignedTail > 0) process.stdout.write(`note: the last ${result.unsignedTail} records are linked but follow the last signed checkpoint\n`);
      if (result.tornTail) process.stdout.write('note: the last line was cut short by a crash and was ignored\n');
      return 0;
    }
    const now = Date.now();
    const filter: AuditFilter = {};
    const since = parseTime('since', stringFlag(args, 'since'), now);
    const until = parseTime('until', stringFlag(args, 'until'), now);
    if (since !== undefined) filter.since = since;
    if (until !== undefined) filter.until = until;
    for (const [flag, field] of [['consumer', 'actor'], ['route', 'route'], ['outcome', 'outcome'], ['kind', 'kind']] as const) {
      const value = stringFlag(args, flag);
      if (value !== undefined) filter[field] = value;
    }
    for await (const record of sink.query(filter)) process.stdout.write(encodeRecord(record) + '\n');
    return 0;
  } catch (error) {
    // Operational failures (file, key, store, Redis) are expected here: one line, exit 1.
    return exitCodeFor(error, USAGE, (e): e is Error => e instanceof Error);
  } finally {
    if (store !== undefined) await (await store.catch(() => undefined))?.close();
  }
}

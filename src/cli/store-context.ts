import { CREDENTIALS_CHANNEL } from '../auth/api-key/index.js';
import { auditChanges, type ChangeNote } from '../audit/cli-record.js';
import { ConfigError, formatIssue } from '../config/config-error.js';
import { loadConfigFile, type LoadedConfig } from '../config/load.js';
import { openStateStore } from '../state/open.js';
import { isStoreError } from '../storage/errors.js';
import { openStore } from '../storage/open.js';
import type { Consumer, Store } from '../storage/types.js';
import { stringFlag, type ParsedArgs } from './args.js';

export const DEFAULT_CONFIG = 'examples/quickstart.yaml';

/** A usage problem: exit code 2 with the command's usage line. */
export class UsageError extends Error {}

/** What a store command gets: the gateway's own Store and config, and a way to reach every worker. */
export interface StoreContext {
  readonly loaded: LoadedConfig;
  readonly store: Store;
  /** The api-key pepper configured in the gateway config, so hashes match what the gateway computes. */
  readonly pepper: Buffer | undefined;
  /** Tells every worker's api-key cache to forget these key ids; warns (never fails) when it cannot. */
  broadcast(keyIds: readonly string[]): Promise<void>;
  /** Notes a change for the audit log (docs/audit.md); written when the command has succeeded. */
  audit(note: ChangeNote): void;
}

/**
 * Runs a store command against the Store and StateStore named in `--config` (default
 * examples/quickstart.yaml). Exit codes: 0 ok, 1 error with a message, 2 usage.
 */
export async function withStore(args: ParsedArgs, usage: string, command: (context: StoreContext) => Promise<void>): Promise<number> {
  let store: Store | undefined;
  try {
    const loaded = loadConfigFile(stringFlag(args, 'config') ?? DEFAULT_CONFIG);
    const pepper = configuredPepper(loaded);
    store = await openStore(loaded.config, loaded.dir);
    const broadcast = async (keyIds: readonly string[]) => {
      try {
        const state = await openStateStore(loaded.config);
        try {
          for (const keyId of keyIds) await state.publish(CREDENTIALS_CHANNEL, keyId);
        } finally {
          await state.close();
        }
      } catch (error) {
        process.stderr.write(`warning: could not publish on ${CREDENTIALS_CHANNEL} (${(error as Error).message}); gateways notice within their api-key cacheTtl\n`);
      }
    };
    const notes: ChangeNote[] = [];
    await command({ loaded, store, pepper, broadcast, audit: (note) => notes.push(note) });
    const opened = store;
    try {
      await auditChanges(loaded, async () => opened, notes);
    } catch (error) {
      // The change itself is done; the operator must know it went unaudited.
      process.stderr.write(`portcullis: the change was made but could not be written to the audit log: ${(error as Error).message}\n`);
      return 1;
    }
    return 0;
  } catch (error) {
    return exitCodeFor(error, usage, (e): e is Error => isStoreError(e) || e instanceof CliError);
  } finally {
    await store?.close();
  }
}

/**
 * Prints an expected failure and returns the exit code: 2 with the usage for a usage error, 1 with
 * one line per issue for a bad config, 1 with the message for what `expected` accepts. Anything
 * else is a bug and is rethrown (main prints its stack).
 */
export function exitCodeFor(error: unknown, usage: string, expected: (error: unknown) => error is Error): number {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n${usage}\n`);
    return 2;
  }
  if (error instanceof ConfigError) {
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return 1;
  }
  if (expected(error)) {
    process.stderr.write(`portcullis: ${error.message}\n`);
    return 1;
  }
  throw error;
}

/** An expected failure (not found, conflict): printed as one line, exit 1. */
export class CliError extends Error {}

/** The pepper of the config's api-key methods: all must agree, since the CLI hashes once for all routes. */
function configuredPepper(loaded: LoadedConfig): Buffer | undefined {
  const peppers = new Set<string>();
  for (const chain of [loaded.globalPolicies, ...loaded.routePolicies]) {
    for (const attachment of chain) {
      if (attachment.descriptor.name !== 'authenticate') continue;
      const methods = (attachment.config.methods ?? []) as { type: string; config?: { pepper?: unknown } }[];
      for (const m of methods) if (m.type === 'api-key' && typeof m.config?.pepper === 'string') peppers.add(m.config.pepper);
    }
  }
  if (peppers.size > 1) throw new CliError('the config gives api-key methods different peppers; keys can be hashed for only one');
  const [pepper] = peppers;
  return pepper === undefined ? undefined : Buffer.from(pepper, 'utf8');
}

export async function findConsumer(store: Store, nameOrId: string): Promise<Consumer> {
  const consumer = (await store.consumers.getByName(nameOrId)) ?? (await store.consumers.get(nameOrId));
  if (consumer === null) throw new CliError(`no consumer named or with id "${nameOrId}"`);
  return consumer;
}

/** `30d`, `24h`, `15m`, `90s` (CLI durations allow days, unlike config durations). */
export function parseCliDuration(flag: string, value: string): number {
  const match = /^([0-9]+)(s|m|h|d)$/.exec(value);
  if (match === null) throw new UsageError(`--${flag}: expected a duration such as 30d, 24h, 15m`);
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

/** Every value of a repeatable flag. parseArgs keeps only the last, so repeated flags are read from argv. */
export function repeatedFlag(argv: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}` && argv[i + 1] !== undefined) values.push(argv[++i]!);
    else if (argv[i]!.startsWith(`--${name}=`)) values.push(argv[i]!.slice(name.length + 3));
  }
  return values;
}

export const fmtDate = (date: Date | null): string => (date === null ? '-' : date.toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** Left-aligned columns for list output. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
}

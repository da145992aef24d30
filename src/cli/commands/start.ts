import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError, formatIssue } from '../../config/config-error.js';
import { loadConfigFile, type LoadedConfig } from '../../config/load.js';
import { Gateway, type GatewayOptions } from '../../gateway.js';
import { type ParsedArgs, stringFlag } from '../args.js';

/** Loads the config or prints every issue and returns undefined. */
export function loadOrReport(file: string): LoadedConfig | undefined {
  try {
    return loadConfigFile(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return undefined;
  }
}

/**
 * Reloads on SIGHUP and when the file changes. The folder is watched, not the file, because
 * editors and config management replace files by rename; changes are debounced.
 */
export function watchConfig(file: string, reload: () => void): FSWatcher | undefined {
  let timer: NodeJS.Timeout | undefined;
  const name = basename(file);
  try {
    const watcher = watch(dirname(file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 150);
    });
    watcher.unref();
    return watcher;
  } catch {
    return undefined;
  }
}

export interface RunOptions extends GatewayOptions {
  /** Watch the config file and reload on change (false in cluster workers: the primary watches). */
  watch?: boolean;
  /** Reload on SIGHUP; when false SIGHUP is ignored (cluster workers: the primary coordinates). */
  hangup?: boolean;
}

/** Runs one gateway process until SIGTERM/SIGINT; shared by `start` and cluster workers. */
export async function runGateway(loaded: LoadedConfig, options: RunOptions = {}): Promise<Gateway> {
  const gateway = await Gateway.start(loaded, options);
  const reload = (trigger: string) => {
    gateway.logger.info({ trigger }, 'config reload requested');
    void gateway.reloadFromFile();
  };
  // Installed even when not reloading: SIGHUP's default action would kill the process.
  process.on('SIGHUP', options.hangup === false ? () => undefined : () => reload('SIGHUP'));
  const watcher = options.watch === false ? undefined : watchConfig(loaded.file, () => reload('file'));
  const stop = (signal: string) => {
    watcher?.close();
    drainAndExit(gateway, signal);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return gateway;
}

const exiting = new WeakSet<Gateway>();

/** Drains the gateway, then exits 0 (1 if closing failed). Later calls for the same gateway do nothing. */
export function drainAndExit(gateway: Gateway, reason: string): void {
  if (exiting.has(gateway)) return;
  exiting.add(gateway);
  gateway.logger.info({ reason }, 'shutting down');
  gateway.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

/** `portcullis start --config FILE` */
export async function startCommand(args: ParsedArgs): Promise<number | undefined> {
  const file = stringFlag(args, 'config') ?? args.positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: portcullis start --config FILE\n');
    return 2;
  }
  const loaded = loadOrReport(file);
  if (loaded === undefined) return 1;
  const workers = loaded.config.server.workers;
  if (workers !== 1) {
    const { runCluster } = await import('../../cluster/primary.js');
    return runCluster(loaded);
  }
  await runGateway(loaded);
  return undefined;
}

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

/** Runs one gateway process until SIGTERM/SIGINT; shared by `start` and cluster workers. */
export async function runGateway(loaded: LoadedConfig, options: GatewayOptions & { watch?: boolean } = {}): Promise<Gateway> {
  const gateway = await Gateway.start(loaded, options);
  const reload = () => void gateway.reloadFromFile();
  process.on('SIGHUP', reload);
  const watcher = options.watch === false ? undefined : watchConfig(loaded.file, reload);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    gateway.logger.info({ signal }, 'shutting down');
    watcher?.close();
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return gateway;
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
    await runCluster(loaded);
    return undefined;
  }
  await runGateway(loaded);
  return undefined;
}

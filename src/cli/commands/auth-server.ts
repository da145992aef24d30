import { ConfigError, formatIssue } from '../../config/config-error.js';
import { loadAuthServerConfigFile } from '../../auth-server/load.js';
import { KeyConfigError } from '../../auth-server/keys.js';
import { startAuthServer } from '../../auth-server/server.js';
import { isStoreError } from '../../storage/errors.js';
import { createLogger } from '../../observability/logger.js';
import { type ParsedArgs, stringFlag } from '../args.js';

/** `portcullis auth-server --config FILE`: the bundled OAuth server, until SIGTERM/SIGINT. */
export async function authServerCommand(args: ParsedArgs): Promise<number | undefined> {
  const file = stringFlag(args, 'config') ?? args.positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: portcullis auth-server --config FILE\n');
    return 2;
  }
  let loaded;
  try {
    loaded = loadAuthServerConfigFile(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return 1;
  }
  const logger = createLogger({ level: stringFlag(args, 'log-level') ?? 'info', destination: 'stderr' });
  let server;
  try {
    server = await startAuthServer(loaded.config, { dir: loaded.dir, logger });
  } catch (error) {
    if (!(error instanceof KeyConfigError) && !isStoreError(error)) throw error;
    process.stderr.write(`${loaded.file}: ${isStoreError(error) ? `storage: ${error.message}` : error.message}\n`);
    return 1;
  }
  const stop = (signal: string) => {
    logger.info({ component: 'auth-server', reason: signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return undefined;
}

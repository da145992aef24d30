import { ConfigError, formatIssue } from '../../config/config-error.js';
import { compileCheck } from '../../config/compile-check.js';
import { loadConfigFile } from '../../config/load.js';
import type { ParsedArgs } from '../args.js';

/** `portcullis validate FILE`: exit 0 when the file would load, 1 with one line per issue otherwise. */
export async function validateCommand(args: ParsedArgs): Promise<number> {
  const file = args.positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: portcullis validate FILE\n');
    return 2;
  }
  try {
    const loaded = loadConfigFile(file);
    await compileCheck(loaded);
    for (const notice of loaded.notices) process.stdout.write(`notice: ${formatIssue(notice)}\n`);
    process.stdout.write(`${loaded.file}: ok (${loaded.config.routes.length} routes, ${Object.keys(loaded.config.upstreams).length} upstreams)\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    process.stderr.write(`${error.issues.length} problem(s) found\n`);
    return 1;
  }
}

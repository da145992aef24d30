#!/usr/bin/env node
import { parseArgs } from './cli/args.js';
import { renderErrorsMarkdown } from './errors/index.js';
import { publishSchema } from './config/publish-schema.js';
import { renderConfigReference } from './config/render-reference.js';
import { BUILTIN_POLICIES } from './policies/registry.js';
import { validateCommand } from './cli/commands/validate.js';
import { startCommand } from './cli/commands/start.js';
import { quickstartCommand } from './cli/commands/quickstart.js';
import { authServerCommand } from './cli/commands/auth-server.js';
import { consumersCommand } from './cli/commands/consumers.js';
import { keysCommand } from './cli/commands/keys.js';

const USAGE = `usage: portcullis <command>

  start --config FILE   run the gateway
  quickstart            run the bundled example with its demo upstream (npm start)
  auth-server --config FILE  run the bundled OAuth server (docs/auth-server.md)
  consumers create|list|show|delete   manage consumers in the store (--config FILE)
  keys create|list|revoke|rotate      manage API keys; a new key is printed once (--config FILE)
  validate FILE         check a config file offline; names file, line and field of each problem
  schema                print the config JSON Schema (for editors)
  errors-doc            print docs/errors.md from the error catalogue
  config-doc            print docs/configuration-reference.md from the schemas
`;

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest);
  switch (command) {
    case 'start':
      return startCommand(args);
    case 'quickstart':
      return quickstartCommand(args);
    case 'auth-server':
      return authServerCommand(args);
    case 'consumers':
      return consumersCommand(args, rest);
    case 'keys':
      return keysCommand(args);
    case 'validate':
      return validateCommand(args);
    case 'schema':
      process.stdout.write(JSON.stringify(publishSchema(BUILTIN_POLICIES), null, 2) + '\n');
      return 0;
    case 'config-doc':
      process.stdout.write(renderConfigReference(BUILTIN_POLICIES));
      return 0;
    case 'errors-doc':
      process.stdout.write(renderErrorsMarkdown());
      return 0;
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`portcullis: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);

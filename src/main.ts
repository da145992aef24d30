#!/usr/bin/env node
import { parseArgs } from './cli/args.js';
import { tuneV8ForGateway } from './runtime/v8-tuning.js';

// Commands are imported when chosen: `start` must not load the OAuth server (oidc-provider, koa)
// or the CLI's store code into every gateway process, and `validate` stays quick.

const USAGE = `usage: portcullis <command>

  start --config FILE   run the gateway
  quickstart            run the bundled example with its demo upstream (npm start)
  auth-server --config FILE  run the bundled OAuth server (docs/auth-server.md)
  consumers create|list|show|delete   manage consumers in the store (--config FILE)
  keys create|list|revoke|rotate      manage API keys; a new key is printed once (--config FILE)
  basic set-password|remove           manage Basic-auth passwords; the password is read from stdin (--config FILE)
  certs add|list|revoke|remove        map client certificates to consumers for mTLS (--config FILE)
  usage NAME|ID         a consumer's quota counts per period (--config FILE)
  audit verify|export   check the audit log's hash chain; export records by time, consumer, route, outcome (--config FILE)
  bans list|lift IP     list or lift the bans anomaly-detection shared through Redis (--config FILE)
  signing-keys create|list|revoke     manage HTTP message signature keys: HMAC secret shown once, or an Ed25519 public key (--config FILE)
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
      tuneV8ForGateway();
      return (await import('./cli/commands/start.js')).startCommand(args);
    case 'quickstart':
      tuneV8ForGateway();
      return (await import('./cli/commands/quickstart.js')).quickstartCommand(args);
    case 'auth-server':
      return (await import('./cli/commands/auth-server.js')).authServerCommand(args);
    case 'consumers':
      return (await import('./cli/commands/consumers.js')).consumersCommand(args, rest);
    case 'keys':
      return (await import('./cli/commands/keys.js')).keysCommand(args);
    case 'basic':
      return (await import('./cli/commands/basic.js')).basicCommand(args);
    case 'certs':
      return (await import('./cli/commands/certs.js')).certsCommand(args);
    case 'usage':
      return (await import('./cli/commands/usage.js')).usageCommand(args);
    case 'audit':
      return (await import('./cli/commands/audit.js')).auditCommand(args);
    case 'bans':
      return (await import('./cli/commands/bans.js')).bansCommand(args);
    case 'signing-keys':
      return (await import('./cli/commands/signing-keys.js')).signingKeysCommand(args);
    case 'validate':
      return (await import('./cli/commands/validate.js')).validateCommand(args);
    case 'schema': {
      const [{ publishSchema }, { BUILTIN_POLICIES }] = await Promise.all([import('./config/publish-schema.js'), import('./policies/registry.js')]);
      process.stdout.write(JSON.stringify(publishSchema(BUILTIN_POLICIES), null, 2) + '\n');
      return 0;
    }
    case 'config-doc': {
      const [{ renderConfigReference }, { BUILTIN_POLICIES }] = await Promise.all([import('./config/render-reference.js'), import('./policies/registry.js')]);
      process.stdout.write(renderConfigReference(BUILTIN_POLICIES));
      return 0;
    }
    case 'errors-doc':
      process.stdout.write((await import('./errors/index.js')).renderErrorsMarkdown());
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

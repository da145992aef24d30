import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from './servers.js';

const root = join(import.meta.dirname, '../..');
const cli = join(root, 'dist/main.js');

export interface CliGateway {
  readonly dir: string;
  /** The gateway config file the CLI is pointed at (`--config`); relative paths resolve in `dir`. */
  readonly config: string;
  readonly upstream: EchoUpstream;
  readonly gw: TestGateway;
  /** Runs `portcullis ...args --config <config>` (dist/ build) and waits for it. */
  run(...args: string[]): SpawnSyncReturns<string>;
  /** The same with `input` on stdin. */
  runWithInput(input: string, ...args: string[]): SpawnSyncReturns<string>;
  close(): Promise<void>;
}

/**
 * A temp folder with a gateway config on a SQLite Store file (./gw.db), a real gateway and echo
 * upstream started from it, and a way to run the built CLI against the same config. `routes` are
 * YAML list items. Builds dist/ when `probe` (a built file the test needs) is missing.
 */
export function startCliGateway(prefix: string, routes: string, probe = 'dist/main.js'): Promise<CliGateway> {
  const yaml = (upstreamUrl: string) => `version: 1
server: { listeners: [{ host: 127.0.0.1, port: 0 }] }
admin: { enabled: false }
storage: { backend: sqlite, sqlite: { path: ./gw.db } }
upstreams:
  up: { targets: [{ url: "${upstreamUrl}" }] }
routes:
${routes}`;
  return startCliGatewayWithConfig(prefix, yaml, probe);
}

/** The same with a whole config of the caller's (TLS listeners, say); `yaml` gets the echo upstream's URL. */
export async function startCliGatewayWithConfig(prefix: string, yaml: (upstreamUrl: string) => string, probe = 'dist/main.js'): Promise<CliGateway> {
  if (!existsSync(join(root, probe))) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const upstream = await startUpstreamEcho();
  const text = yaml(upstream.url);
  const config = join(dir, 'gw.yaml');
  writeFileSync(config, text);
  const gw = await startGateway(text, { file: config });
  return {
    dir,
    config,
    upstream,
    gw,
    // Each call is a separate node process: seconds each on a busy machine, so callers give long test timeouts.
    run: (...args) => spawnSync(process.execPath, [cli, ...args, '--config', config], { encoding: 'utf8', timeout: 30_000 }),
    runWithInput: (input, ...args) => spawnSync(process.execPath, [cli, ...args, '--config', config], { input, encoding: 'utf8', timeout: 30_000 }),
    async close() {
      await gw.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

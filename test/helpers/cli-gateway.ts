import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from './servers.js';

const root = join(import.meta.dirname, '../..');
const cli = join(root, 'dist/main.js');

export interface CliGateway {
  readonly dir: string;
  /** The config file both the gateway and the CLI read (relative paths resolve in `dir`). */
  readonly config: string;
  readonly upstream: EchoUpstream;
  readonly gw: TestGateway;
  /** Runs `portcullis ARGS --config <config>` in a fresh process, with `input` on stdin. */
  run(args: readonly string[], input?: string): SpawnSyncReturns<string>;
  close(): Promise<void>;
}

/**
 * A real gateway and the built CLI sharing one config file in a temp folder, for the store command
 * tests: `yaml` gets the echo upstream's URL. Builds dist/ first when `builtFile` is missing there.
 */
export async function startCliGateway(prefix: string, builtFile: string, yaml: (upstreamUrl: string) => string): Promise<CliGateway> {
  if (!existsSync(join(root, 'dist', builtFile))) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const upstream = await startUpstreamEcho();
  const config = join(dir, 'gw.yaml');
  const text = yaml(upstream.url);
  writeFileSync(config, text);
  const gw = await startGateway(text, { file: config });
  return {
    dir,
    config,
    upstream,
    gw,
    run: (args, input = '') => spawnSync(process.execPath, [cli, ...args, '--config', config], { input, encoding: 'utf8', timeout: 60_000 }),
    async close() {
      await gw.close();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

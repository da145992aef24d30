import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { loadAuthServerConfigFile } from '../../auth-server/load.js';
import { startAuthServer } from '../../auth-server/server.js';
import { createEchoServer } from '../../demo/echo-upstream.js';
import { createLogger } from '../../observability/logger.js';
import { type ParsedArgs, stringFlag } from '../args.js';
import { loadOrReport, runGateway } from './start.js';

const DEMO_PORT = 3001;

/**
 * `npm start`: in one process, the demo upstream (a JSON echo), the bundled OAuth server
 * (examples/auth-server.yaml, on 127.0.0.1:9000) and the gateway (examples/quickstart.yaml). The
 * gateway itself never issues tokens; the bundled server does, so the demo works offline.
 */
export async function quickstartCommand(args: ParsedArgs): Promise<number | undefined> {
  const examples = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../examples');
  const file = stringFlag(args, 'config') ?? resolve(examples, 'quickstart.yaml');
  const loaded = loadOrReport(file);
  if (loaded === undefined) return 1;

  const authConfig = loadAuthServerConfigFile(stringFlag(args, 'auth-config') ?? resolve(examples, 'auth-server.yaml'));
  const authServer = await startAuthServer(authConfig.config, {
    dir: authConfig.dir,
    logger: createLogger({ level: loaded.config.logging.level, destination: 'stderr' }),
  });
  const echo = createEchoServer();
  await new Promise<void>((done, fail) => {
    echo.once('error', fail);
    echo.listen(DEMO_PORT, '127.0.0.1', done);
  });
  const gateway = await runGateway(loaded);
  process.once('exit', () => void authServer.close());
  const port = gateway.ports[0];
  process.stderr.write(
    `\nPortcullis quick start\n` +
      `  gateway        http://127.0.0.1:${port}   (config ${loaded.file})\n` +
      `  admin          http://127.0.0.1:${gateway.adminPort ?? '-'}   (/health /ready /metrics)\n` +
      `  OAuth server   ${authServer.url}   (config ${authConfig.file}; client demo-client / demo-secret)\n` +
      `  demo upstream  http://127.0.0.1:${DEMO_PORT}   (JSON echo)\n` +
      `Try: curl -i http://127.0.0.1:${port}/demo/hello   (README.md walks through the rest)\n\n`,
  );
  return undefined;
}

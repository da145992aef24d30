import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { createEchoServer } from '../../demo/echo-upstream.js';
import { type ParsedArgs, stringFlag } from '../args.js';
import { loadOrReport, runGateway } from './start.js';

const DEMO_PORT = 3001;

/** `npm start`: the demo upstream and the gateway with examples/quickstart.yaml, in one process. */
export async function quickstartCommand(args: ParsedArgs): Promise<number | undefined> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const file = stringFlag(args, 'config') ?? resolve(here, '../../../examples/quickstart.yaml');
  const loaded = loadOrReport(file);
  if (loaded === undefined) return 1;
  const echo = createEchoServer();
  await new Promise<void>((done, fail) => {
    echo.once('error', fail);
    echo.listen(DEMO_PORT, '127.0.0.1', done);
  });
  const gateway = await runGateway(loaded);
  const port = gateway.ports[0];
  process.stderr.write(
    `\nPortcullis quick start\n` +
      `  gateway        http://127.0.0.1:${port}   (config ${loaded.file})\n` +
      `  admin          http://127.0.0.1:${gateway.adminPort ?? '-'}   (/health /ready /metrics)\n` +
      `  demo upstream  http://127.0.0.1:${DEMO_PORT}   (JSON echo)\n` +
      `Try: curl -i http://127.0.0.1:${port}/demo/hello\n\n`,
  );
  return undefined;
}

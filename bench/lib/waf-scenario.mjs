// portcullis-waf: the waf policy with the OWASP CRS at paranoia level 1 on the bench route. The
// load is the harness's GET without a body; the 4 KB JSON body case is measured in-process by
// `node bench/waf-engine.mjs` (the load generators here send no bodies).
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where the CRS is: $PORTCULLIS_CRS_DIR, else the project's shared/crs beside an ancestor of the repository. */
export async function benchCrsDir(repoRoot) {
  const { locateTestCrs } = await import(pathToFileURL(path.join(repoRoot, 'dist', 'waf', 'ftw', 'locate.js')).href);
  return locateTestCrs(repoRoot);
}

export async function startWaf(ctx, port, startPortcullis) {
  const crsDir = await benchCrsDir(ctx.repoRoot).catch(() => undefined);
  if (crsDir === undefined) return { error: 'no CRS found (set PORTCULLIS_CRS_DIR)' };
  const policies = [{ name: 'waf', config: { crsDir, paranoiaLevel: 1 } }];
  const started = startPortcullis(ctx, port, { name: 'portcullis-waf', workers: 1, policies, cpus: ctx.layout.proxy1 });
  // Compiling the CRS takes a few seconds at start.
  return 'error' in started ? started : { ...started, readyMs: 60_000 };
}

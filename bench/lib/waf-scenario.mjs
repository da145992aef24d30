// portcullis-waf: the waf policy with the OWASP CRS at paranoia level 1 on the bench route. The
// load is the harness's GET without a body; the 4 KB JSON body case is measured in-process by
// `node bench/waf-engine.mjs` (the load generators here send no bodies).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fourKbJson } from './waf-requests.mjs';

/** Where the CRS is: $PORTCULLIS_CRS_DIR, else the project's shared/crs beside an ancestor of the repository. */
export async function benchCrsDir(repoRoot) {
  const { locateTestCrs } = await import(pathToFileURL(path.join(repoRoot, 'dist', 'waf', 'ftw', 'locate.js')).href);
  return locateTestCrs(repoRoot);
}

/**
 * portcullis-waf; with `batch: false` (portcullis-waf-unbatched) each request and response is
 * evaluated as it arrives rather than with the others of its event-loop turn (policies/waf/batch.ts);
 * with a `body`, the load POSTs it as JSON (portcullis-waf-json-4kb).
 */
export async function startWaf(ctx, port, startPortcullis, { name = 'portcullis-waf', batch = true, body } = {}) {
  const crsDir = await benchCrsDir(ctx.repoRoot).catch(() => undefined);
  if (crsDir === undefined) return { error: 'no CRS found (set PORTCULLIS_CRS_DIR)' };
  const policies = [{ name: 'waf', config: { crsDir, paranoiaLevel: 1, batch } }];
  const started = startPortcullis(ctx, port, { name, workers: 1, policies, cpus: ctx.layout.proxy1 });
  // Compiling the CRS takes a few seconds at start.
  return 'error' in started ? started : { ...started, readyMs: 60_000, body };
}

/** The 4 KB JSON body as the load generator POSTs it (portcullis-waf-json-4kb and its bare baseline). */
export const WAF_JSON_BODY = fourKbJson().toString();

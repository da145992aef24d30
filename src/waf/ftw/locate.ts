import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The CRS copy the project keeps for tests: `$PORTCULLIS_CRS_DIR`, else the nearest `shared/crs`
 * beside an ancestor of `from` (the main checkout and the worktrees sit at different depths).
 * Products never use this: the `waf` policy takes the CRS path from config.
 */
export function locateTestCrs(from: string): string | undefined {
  const env = process.env.PORTCULLIS_CRS_DIR;
  if (env !== undefined && env !== '') return path.resolve(env);
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'crs');
    if (existsSync(path.join(candidate, 'rules'))) return candidate;
    if (path.dirname(dir) === dir) return missing();
  }
}

/**
 * Without the CRS the WAF tests skip locally, but under CI (`CI` set, as .ci/run does) a missing
 * CRS is an error: a green CI must mean the WAF suite ran.
 */
function missing(): undefined {
  if (process.env.CI !== undefined && process.env.CI !== '') {
    throw new Error('OWASP CRS test data not found: set PORTCULLIS_CRS_DIR or keep shared/crs beside an ancestor of the checkout');
  }
  return undefined;
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCrsSuite } from './run.js';
import { locateTestCrs } from './locate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CRS_DIR = locateTestCrs(here);
const recorded = JSON.parse(readFileSync(path.join(here, 'recorded.json'), 'utf8')) as { total: number; passed: number };

describe('OWASP CRS regression suite', () => {
  it.skipIf(CRS_DIR === undefined)(
    'passes at least the recorded number of go-ftw cases, and skips only cases that check nothing in the log or test the HTTP server',
    async () => {
      const report = await runCrsSuite({ crsDir: CRS_DIR! });
      expect(report.loadProblems).toEqual([]);
      expect(report.total, 'the CRS copy changed: rerun npm run waf:crs and update recorded.json').toBe(recorded.total);
      const failed = report.cases.filter((c) => c.outcome === 'failed').map((c) => `${c.name}: ${c.reason}`);
      expect(report.passed, `regression below the recorded ${recorded.passed}; failing:\n${failed.join('\n')}`).toBeGreaterThanOrEqual(recorded.passed);
      for (const c of report.cases.filter((x) => x.outcome === 'skipped')) expect(c.reason).toMatch(/no stage|^server-dependent: /);
    },
    900_000,
  );
});

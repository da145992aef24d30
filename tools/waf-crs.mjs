#!/usr/bin/env node
// `npm run waf:crs [-- --json FILE] [-- --filter 942] [-- --crs DIR] [-- --failures] [-- --cold]`: runs
// every go-ftw case of the CRS regression suite through the WAF engine (dist/, so build first) and
// prints the pass rate per rule family and the slowest cases (CPU ms, measured on a second, warm
// pass unless --cold). See docs/waf.md.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCrsSuite, formatReport, locateTestCrs } from '../dist/waf/ftw/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const crsDir = option('--crs') ? path.resolve(option('--crs')) : locateTestCrs(repoRoot);
if (crsDir === undefined) {
  process.stderr.write('waf:crs: no CRS found (pass --crs DIR or set PORTCULLIS_CRS_DIR)\n');
  process.exit(2);
}
const report = await runCrsSuite({ crsDir, filter: option('--filter'), warm: !args.includes('--cold') });
process.stdout.write(formatReport(report, { failures: args.includes('--failures') }));
// Per-case CPU time for --json: other processes' load does not count; GC does.
const round = (ms) => Math.round(ms * 10) / 10;
const slowest = report.cases.filter((c) => c.outcome !== 'skipped').sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 20).map((c) => ({ name: c.name, cpuMs: round(c.cpuMs), ms: round(c.ms) }));
const json = option('--json');
if (json !== undefined) {
  const { total, passed, failed, skipped, families } = report;
  const caseCpuMs = Object.fromEntries(report.cases.filter((c) => c.outcome !== 'skipped').map((c) => [c.name, Math.round(c.cpuMs * 100) / 100]));
  const skippedCases = report.cases.filter((c) => c.outcome === 'skipped').map((c) => ({ name: c.name, reason: c.reason }));
  const failedCases = report.cases.filter((c) => c.outcome === 'failed').map((c) => ({ name: c.name, reason: c.reason }));
  writeFileSync(json, JSON.stringify({ total, passed, failed, skipped, families, skippedCases, failedCases, slowest, caseCpuMs }, null, 2) + '\n');
}

import type { SuiteReport } from './run.js';

export { locateTestCrs } from './locate.js';
export { runCrsSuite, CRS_TEST_SETTINGS, type SuiteReport, type CaseResult } from './run.js';

const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(2)}%`);

/** The text report: one line per family, the total, skipped cases with reasons, failures on request. */
export function formatReport(report: SuiteReport, opts: { failures: boolean }): string {
  const lines: string[] = [];
  for (const p of report.loadProblems) lines.push(`load: ${p}`);
  lines.push('family                                           total  passed  failed skipped  pass rate');
  for (const [name, f] of Object.entries(report.families)) {
    lines.push(`${name.padEnd(48)} ${String(f.total).padStart(5)} ${String(f.passed).padStart(7)} ${String(f.failed).padStart(7)} ${String(f.skipped).padStart(7)}  ${pct(f.passed, f.total - f.skipped)}`);
  }
  const run = report.total - report.skipped;
  lines.push(`TOTAL ${report.total} cases, ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped: ${pct(report.passed, run)} of the cases run, ${pct(report.passed, report.total)} of all`);
  for (const c of report.cases) if (c.outcome === 'skipped') lines.push(`skipped ${c.name}: ${c.reason}`);
  if (opts.failures) for (const c of report.cases) if (c.outcome === 'failed') lines.push(`FAILED ${c.name}: ${c.reason}`);
  const slowest = [...report.cases].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 10);
  lines.push(`slowest cases (CPU): ${slowest.map((c) => `${c.name} ${c.cpuMs.toFixed(1)} ms`).join(', ')}`);
  return lines.join('\n') + '\n';
}

import path from 'node:path';
import { WafEngine } from '../engine/waf-engine.js';
import { BudgetExceededError } from '../engine/evaluate.js';
import type { Transaction } from '../engine/transaction.js';
import { compilePcre } from '../regex/translate.js';
import { loadFtwCases, type FtwCase, type FtwStage } from './cases.js';
import { buildFtwRequest, buildFtwResponse } from './build-request.js';
import { checksServerOnly, skipReason } from './skips.js';
import { checkStatusStage, startFtwGateway, type FtwGateway } from './gateway-stage.js';

/**
 * The configuration the CRS project's own CI gives ModSecurity when it runs these tests
 * (tests/regression: paranoia 4, detection only, the size limits the tests were written for).
 */
export const CRS_TEST_SETTINGS = `SecAction "id:900005,phase:1,nolog,pass,ctl:ruleEngine=DetectionOnly,ctl:ruleRemoveById=910000,\\
setvar:tx.blocking_paranoia_level=4,setvar:tx.crs_validate_utf8_encoding=1,setvar:tx.arg_name_length=100,\\
setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,setvar:tx.max_num_args=255,setvar:tx.max_file_size=64100,\\
setvar:tx.combined_file_sizes=65535,setvar:tx.enforce_bodyproc_urlencoded=1"`;

export interface CaseResult {
  readonly name: string;
  readonly family: string;
  readonly outcome: 'passed' | 'failed' | 'skipped';
  readonly reason: string | undefined;
  /** Wall time of the case's stages (other processes' load included). */
  readonly ms: number;
  /** CPU time of this process over the case (includes GC; excludes time other processes took). */
  readonly cpuMs: number;
}

export interface FamilyTotals {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
}

export interface SuiteReport extends FamilyTotals {
  readonly families: Record<string, FamilyTotals>;
  readonly cases: CaseResult[];
  readonly loadProblems: readonly string[];
}

/** What ModSecurity would have written to its error log for this transaction (what go-ftw greps). */
function logText(tx: Transaction): string {
  return tx.matches
    .filter((m) => m.logged)
    .map((m) => `ModSecurity: Warning. Matched at ${m.variable}. [id "${m.id}"] [msg "${m.msg}"] [data "${m.data}"] [severity "${m.severity ?? ''}"]`)
    .join('\n');
}

function checkStage(engine: WafEngine, stage: FtwStage): string | undefined {
  const req = buildFtwRequest(stage.input);
  let tx: Transaction;
  try {
    tx = engine.evaluateRequest(req);
    engine.evaluateResponse(tx, buildFtwResponse(req));
    engine.evaluateLogging(tx);
  } catch (error) {
    if (error instanceof BudgetExceededError) return error.message;
    throw error;
  }
  const logged = new Set(tx.matches.filter((m) => m.logged).map((m) => m.id));
  const log = stage.output.log ?? {};
  const missing = (log.expect_ids ?? []).filter((id) => !logged.has(id));
  if (missing.length > 0) return `expected ${missing.join(',')} did not match (matched: ${[...logged].join(',')})`;
  const unwanted = (log.no_expect_ids ?? []).filter((id) => logged.has(id));
  if (unwanted.length > 0) return `${unwanted.join(',')} matched but must not`;
  const text = logText(tx);
  if (log.match_regex !== undefined && !compilePcre(log.match_regex).test(text)) return `log does not match ${log.match_regex}`;
  if (log.no_match_regex !== undefined && compilePcre(log.no_match_regex).test(text)) return `log matches ${log.no_match_regex}`;
  return undefined;
}

function runCase(engine: WafEngine, c: FtwCase): CaseResult {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const skip = skipReason(c);
  if (skip !== undefined) return { name: c.name, family: c.family, outcome: 'skipped', reason: skip, ms: 0, cpuMs: 0 };
  let reason: string | undefined;
  for (const stage of c.stages) {
    reason = checkStage(engine, stage);
    if (reason !== undefined) break;
  }
  const used = process.cpuUsage(cpu);
  return { name: c.name, family: c.family, outcome: reason === undefined ? 'passed' : 'failed', reason, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

/** A case that checks only the server's answer, sent to a real gateway; its time is the gateway's, not the engine's (cpuMs 0). */
async function runServerCase(gateway: FtwGateway, c: FtwCase): Promise<CaseResult> {
  const started = performance.now();
  let reason: string | undefined;
  for (const stage of c.stages) {
    reason = await checkStatusStage(gateway, stage);
    if (reason !== undefined) break;
  }
  return { name: c.name, family: c.family, outcome: reason === undefined ? 'passed' : 'failed', reason, ms: performance.now() - started, cpuMs: 0 };
}

export interface SuiteOptions {
  readonly crsDir: string;
  /** Only cases whose name starts with this (`942`, `942100-3`). */
  readonly filter?: string;
  /**
   * Run every case once before the measured pass, so case times do not include V8's lazy
   * compilation of each regex on first use (what a gateway pays once, on its first requests).
   */
  readonly warm?: boolean;
}

/** Runs the suite, yielding to the event loop between batches (a test runner's worker must stay responsive). */
export async function runCrsSuite(options: SuiteOptions): Promise<SuiteReport> {
  const engine = WafEngine.fromCrs({ crsDir: options.crsDir, settings: CRS_TEST_SETTINGS });
  const all = loadFtwCases(path.join(options.crsDir, 'tests', 'regression', 'tests'));
  const cases = options.filter ? all.filter((c) => c.name.startsWith(options.filter!)) : all;
  const onServer = (c: FtwCase) => skipReason(c) === undefined && checksServerOnly(c);
  if (options.warm === true) for (const c of cases) if (!onServer(c)) runCase(engine, c);
  const report: SuiteReport = { total: 0, passed: 0, failed: 0, skipped: 0, families: {}, cases: [], loadProblems: engine.ruleSet.problems };
  // The engine's cases first, the server's after: the gateway's sockets, timers and garbage (it
  // compiles a CRS of its own) would otherwise land in the CPU time of the cases measured after them.
  const results = new Map<FtwCase, CaseResult>();
  for (const [k, c] of cases.entries()) {
    if (k % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (!onServer(c)) results.set(c, runCase(engine, c));
  }
  if (cases.some(onServer)) {
    const gateway = await startFtwGateway(options.crsDir);
    try {
      for (const c of cases.filter(onServer)) results.set(c, await runServerCase(gateway, c));
    } finally {
      await gateway.close();
    }
  }
  for (const c of cases) add(report, c, results.get(c)!);
  return report;
}

function add(report: SuiteReport, c: FtwCase, result: CaseResult): void {
  const fam = (report.families[c.family] ??= { total: 0, passed: 0, failed: 0, skipped: 0 });
  fam.total++;
  report.total++;
  fam[result.outcome]++;
  report[result.outcome]++;
  report.cases.push(result);
}

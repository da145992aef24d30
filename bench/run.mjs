#!/usr/bin/env node
// Portcullis benchmark runner: `npm run bench` (see docs/benchmarks.md).
// Measures, in one run on this machine, a direct call to an nginx upstream, nginx as a reverse
// proxy, fast-gateway and Portcullis (bare, with the core policies, with 2 workers), and reports
// req/s, p50/p99 latency and the proxy's CPU microseconds per request from /proc.
// Progress goes to stderr; the Markdown report goes to stdout.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, parseOptions } from './lib/args.mjs';
import { detectLoadGenerator } from './lib/load.mjs';
import { runScenario } from './lib/measure.mjs';
import { waitReady, freePort } from './lib/net.mjs';
import { ensureNginx, startNginx, upstreamConf } from './lib/nginx.mjs';
import { allowedCpus, killAllNow, runSync, start, stop, stopAll, which } from './lib/procs.mjs';
import { evaluateTargets, renderTable, renderTargets, writeJson } from './lib/report.mjs';
import { REFERENCE_NAME, SCENARIO_NAMES, cpuLayout, scenarios } from './lib/scenarios.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const log = (line) => process.stderr.write(line + '\n');

class HarnessError extends Error {}

let tmpDir = null;
let keepTmp = false;
let finishing = false;

function removeTmp() {
  if (tmpDir && !keepTmp) rmSync(tmpDir, { recursive: true, force: true });
}

async function shutdown(code, message) {
  if (finishing) return;
  finishing = true;
  if (message) log(message);
  await Promise.race([stopAll(), new Promise((r) => setTimeout(r, 10_000))]);
  killAllNow();
  removeTmp();
  process.exit(code);
}

process.on('exit', () => killAllNow()); // last resort: never leave nginx or a gateway behind
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => void shutdown(130, `\n${sig}: stopping every child process...`));
}
process.on('uncaughtException', (err) => void shutdown(1, `bench: harness failure: ${err.stack ?? err}`));
process.on('unhandledRejection', (err) => void shutdown(1, `bench: harness failure: ${err?.stack ?? err}`));

async function main() {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    log(`bench: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  keepTmp = opts.keepTmp;
  if (process.platform !== 'linux' || !existsSync('/proc/self/stat')) {
    throw new HarnessError('this benchmark reads CPU time from /proc and needs Linux');
  }

  // -- machine, tools, layout
  const taskset = which('taskset');
  const allowed = allowedCpus(taskset, os.availableParallelism());
  const layout = cpuLayout(taskset, allowed);
  const needNginx = opts.upstream !== 'node' || opts.only.includes('nginx');
  const nginx = needNginx ? ensureNginx({ allowInstall: opts.install }) : { nginx: null, version: null, notes: ['not needed'] };
  const load = detectLoadGenerator(opts.load, repoRoot);
  if (!load) throw new HarnessError(`no load generator: wrk is not installed and node_modules/autocannon is missing (--load ${opts.load})`);
  if (opts.upstream === 'nginx' && !nginx.nginx) throw new HarnessError(`--upstream nginx: ${nginx.notes.join('; ')}`);

  const names = SCENARIO_NAMES.filter((n) => opts.only.includes(n));
  if ((names.includes('portcullis-bare-2-workers') && !layout.separate2w) || opts.only.includes(REFERENCE_NAME)) {
    names.splice(names.indexOf('portcullis-bare-2-workers') + 1, 0, REFERENCE_NAME);
  }
  const budgetS = names.length * (opts.warmup + opts.runs * (opts.duration + 35) + 60) + 120;
  setTimeout(() => void shutdown(1, `bench: watchdog: still running after ${budgetS} s, giving up`), budgetS * 1000).unref();

  tmpDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-'));

  // -- the upstream, shared by every scenario, on the load CPU
  const upstreamPort = await freePort();
  const useNginx = opts.upstream !== 'node' && !!nginx.nginx;
  const upstream = useNginx
    ? startNginx('upstream', {
        nginx: nginx.nginx,
        version: nginx.version,
        tmpDir,
        conf: (prefix) => upstreamConf(prefix, upstreamPort),
        cpus: layout.load,
        taskset,
      })
    : start('upstream', process.execPath, [path.join(benchDir, 'lib', 'upstream-server.mjs')], {
        cpus: layout.load,
        taskset,
        env: { ...process.env, PORT: String(upstreamPort) },
      });
  const ready = await waitReady(upstreamPort, { handle: upstream, deadlineMs: 10_000 });
  if (!ready.ok) throw new HarnessError(`upstream did not start: ${ready.reason}; stderr: ${upstream.stderr.slice(-600)}`);

  const cpuModel = /model name\s*:\s*(.+)/.exec(runSync('cat', ['/proc/cpuinfo']).stdout)?.[1] ?? 'unknown CPU';
  const loadAvg = os.loadavg()[0];
  const wrkVersion = load.kind === 'wrk' ? (/wrk (\S+)/.exec(runSync(load.bin, ['-v']).stdout)?.[1] ?? '') : '';
  const meta = {
    date: new Date().toISOString(),
    cpus: allowed.length,
    cpu_model: cpuModel,
    load_average_1m: Number(loadAvg.toFixed(2)),
    node: process.version,
    nginx: nginx.version,
    load_generator: load.kind === 'wrk' ? `wrk ${wrkVersion} -t1` : 'autocannon',
    upstream: useNginx ? `nginx ${nginx.version} return 200` : 'Node http server (nginx unavailable)',
    pinning: layout.note,
    duration_s: opts.duration,
    warmup_s: opts.warmup,
    connections: opts.connections,
    runs: opts.runs,
  };
  const out = [];
  out.push(`## Portcullis benchmark, ${meta.date}`, '');
  out.push(`- machine: ${meta.cpus} CPUs (${cpuModel}), load average ${loadAvg.toFixed(2)} at start${loadAvg > 0.5 ? ' (NOT idle: req/s and latency are unreliable, CPU us/req much less so)' : ''}`);
  out.push(`- ${meta.node}; upstream: ${meta.upstream}; load: ${meta.load_generator}, ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.runs} x ${opts.duration} s`);
  out.push(`- pinning: ${layout.note}`);
  if (needNginx) for (const n of nginx.notes) out.push(`- nginx: ${n}`);
  out.push('');
  process.stdout.write(out.join('\n') + '\n'); // the header now, the table when measured

  // -- the scenarios, one at a time
  const ctx = { opts, cpuCount: os.cpus().length, repoRoot, benchDir, tmpDir, taskset, layout, nginx, load, upstream, upstreamPort };
  const defs = scenarios(ctx);
  const rows = [];
  for (const name of names) {
    const twoWorkers = rows.find((r) => r.name === 'portcullis-bare-2-workers');
    if (name === REFERENCE_NAME && twoWorkers && !twoWorkers.ok) {
      log(`> ${name}: skipped (only needed for the 2-worker ratio, and that row failed)`);
      continue;
    }
    log(`> ${name}`);
    const row = await runScenario(name, defs[name], ctx, log);
    if (row.error) log(`  ${name}: FAILED: ${row.error.split('\n')[0]}`);
    rows.push(row);
    if (upstream.exitCode !== undefined) {
      throw new HarnessError(`the upstream exited (${upstream.exitCode}) during ${name}: ${upstream.stderr.slice(-600)}`);
    }
    if (name === 'direct' && !row.ok) throw new HarnessError(`the direct call to the upstream failed: ${row.error}`);
    if (row.error?.startsWith('harness error')) throw new HarnessError(row.error);
  }
  await stop(upstream);

  const targets = evaluateTargets(rows, layout);
  process.stdout.write([renderTable(rows), '', '### Targets of the issue', '', renderTargets(targets), ''].join('\n'));
  if (opts.json) {
    writeJson(opts.json, rows, targets, meta);
    log(`wrote ${opts.json}`);
  }
  if (keepTmp) log(`temp dir kept: ${tmpDir}`);
  return 0;
}

main().then(
  (code) => shutdown(code),
  (err) => shutdown(1, `bench: harness failure: ${err instanceof HarnessError ? err.message : err.stack ?? err}`),
);

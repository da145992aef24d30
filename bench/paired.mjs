#!/usr/bin/env node
// Paired measurement of what one policy adds (build first): `node bench/paired.mjs [--pairs N]
// [--slice S] [--connections C] [--only apikey,authz,...] [--against DIR]`. See docs/benchmarks.md, "Paired slices".
// `--against DIR` compares two builds instead of two rows: each target's measured row runs from
// DIR (another checkout, built) as the baseline and from this one, in the same paired slices.
//
// The targets "X adds at most N us CPU per request" compare two rows. Run one after the other, a
// minute apart, they drift on a shared machine by more than the targets themselves (a whole row
// moved 105-184 us between rounds here). So both gateways run at once, pinned to the same CPU, and
// the load alternates between them in short slices (A B, then B A, ...): whatever the machine does
// over minutes hits both sides of each pair alike. The figure is the median over pairs of the
// difference in CPU per request, each pair taken within a few seconds.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectLoadGenerator, runLoad } from './lib/load.mjs';
import { freePort, waitReady } from './lib/net.mjs';
import { ensureNginx, startNginx, upstreamConf } from './lib/nginx.mjs';
import { allowedCpus, clockTicksPerSecond, cpuSnapshot, cpuTicksBetween, killAllNow, stop, stopAll, which } from './lib/procs.mjs';
import { cpuLayout, scenarios } from './lib/scenarios.mjs';

/** [id, what, baseline row, measured row, limit in us]: the issue targets that are differences. */
const PAIRS = [
  ['apikey', 'api-key authentication', 'portcullis-bare', 'portcullis-apikey', 10],
  ['authz', 'authorize (3 CEL rules + 1 ownership binding)', 'portcullis-apikey', 'portcullis-authz', 5],
  ['jwt', 'jwt, warm verified-token cache', 'portcullis-bare-jwt-traffic', 'portcullis-jwt', 10],
  ['ratelimit', 'rate-limit, memory, 2 limits', 'portcullis-bare', 'portcullis-ratelimit-memory', 3],
  ['openapi', 'openapi, 1 KB JSON body validated', 'portcullis-openapi-stream', 'portcullis-openapi', 25],
  ['full', 'audit log + anomaly detection', 'portcullis-quickstart', 'portcullis-full', 10],
  ['waf', 'waf, OWASP CRS at paranoia level 1, GET', 'portcullis-bare', 'portcullis-waf', 60],
  ['waf-unbatched', 'waf as above with `batch: false`, GET', 'portcullis-bare', 'portcullis-waf-unbatched', 60],
  ['waf-json', 'waf, OWASP CRS at paranoia level 1, 4 KB JSON body', 'portcullis-bare-json-4kb', 'portcullis-waf-json-4kb', 500],
];

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const log = (line) => process.stderr.write(line + '\n');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const pairs = Number(opt('--pairs', 10));
const slice = Math.max(1, Math.round(Number(opt('--slice', 2)))); // wrk takes whole seconds
const only = opt('--only', PAIRS.map((p) => p[0]).join(',')).split(',');
const connections = Math.max(1, Number(opt('--connections', 50)));
const against = opt('--against', undefined) && path.resolve(opt('--against'));

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quartiles = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return [s[Math.floor((s.length - 1) / 4)], s[Math.ceil((3 * (s.length - 1)) / 4)]];
};

async function startRow(ctx, defs, name) {
  const port = await freePort();
  const started = await defs[name].start(ctx, port);
  if (started.error) throw new Error(`${name}: ${started.error}`);
  const ready = await waitReady(port, { handle: started.handle, deadlineMs: started.readyMs ?? 20_000 });
  if (!ready.ok) throw new Error(`${name} did not start: ${ready.reason}`);
  return { name, port, handle: started.handle, helpers: started.helpers ?? [], headers: started.headers ?? {}, body: started.body };
}

/** One slice of load on `row`: its CPU microseconds per request. */
async function sliceOf(ctx, row, seconds, hz) {
  const before = cpuSnapshot(row.handle.pid);
  const r = await runLoad(ctx.load, `http://127.0.0.1:${row.port}/`, { seconds, connections, cpus: ctx.layout.load, taskset: ctx.taskset, headers: row.headers, body: row.body });
  const ticks = cpuTicksBetween(before, cpuSnapshot(row.handle.pid));
  if (r.error) throw new Error(`${row.name}: ${r.error}`);
  if (r.errors > r.requests * 0.01) throw new Error(`${row.name}: ${r.errors} of ${r.requests} responses failed`);
  return ((ticks / hz) * 1e6) / r.requests;
}

async function main() {
  const taskset = which('taskset');
  const layout = cpuLayout(taskset, allowedCpus(taskset, os.availableParallelism()));
  const nginx = ensureNginx({ allowInstall: false });
  if (!nginx.nginx) throw new Error(`nginx is needed: ${nginx.notes.join('; ')}`);
  const load = detectLoadGenerator('auto', repoRoot);
  if (!load) throw new Error('no load generator (wrk or autocannon)');
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-paired-'));
  const upstreamPort = await freePort();
  const upstream = startNginx('upstream', { nginx: nginx.nginx, version: nginx.version, tmpDir, conf: (prefix) => upstreamConf(prefix, upstreamPort), cpus: layout.load, taskset });
  if (!(await waitReady(upstreamPort, { handle: upstream, deadlineMs: 10_000 })).ok) throw new Error('upstream did not start');
  const ctx = { opts: { connections }, cpuCount: os.cpus().length, repoRoot, benchDir, tmpDir, taskset, layout, nginx, load, upstream, upstreamPort };
  const hz = clockTicksPerSecond();
  const lines = [
    `## Paired slices, ${new Date().toISOString()}`,
    '',
    `${pairs} pairs of ${slice} s slices per target (A B, then B A, ...), both gateways up at once on the proxy CPU, ${connections} connections; load average ${os.loadavg()[0].toFixed(2)} at start.`,
    ...(against ? ['', `Builds compared: the baseline is each target's measured row built from ${against}, the other from ${repoRoot}.`] : []),
    '',
    '| target | baseline | with the policy | added: median of pairs | interquartile range | limit | met |',
    '|---|---:|---:|---:|---|---:|---|',
  ];
  try {
    for (const [id, what, baseName, rowName, limit] of PAIRS.filter((p) => only.includes(p[0]))) {
      log(against ? `> ${id}: ${rowName}, ${against} vs this build` : `> ${id}: ${baseName} vs ${rowName}`);
      // Each pair gets its own folder: a row set up twice (api-key as a baseline, then measured) needs a fresh store.
      const pairCtx = { ...ctx, tmpDir: mkdtempSync(path.join(tmpDir, `${id}-`)) };
      const pairDefs = scenarios(pairCtx);
      const againstCtx = { ...pairCtx, repoRoot: against, tmpDir: against && mkdtempSync(path.join(tmpDir, `${id}-against-`)) };
      const rows = against
        ? [await startRow(againstCtx, scenarios(againstCtx), rowName), await startRow(pairCtx, pairDefs, rowName)]
        : [await startRow(pairCtx, pairDefs, baseName), await startRow(pairCtx, pairDefs, rowName)];
      try {
        for (const row of rows) await sliceOf(ctx, row, 2, hz); // warm-up
        const cpu = [[], []];
        for (let i = 0; i < pairs; i++) {
          const order = i % 2 === 0 ? [0, 1] : [1, 0];
          for (const k of order) cpu[k].push(await sliceOf(ctx, rows[k], slice, hz));
        }
        const added = cpu[1].map((c, i) => c - cpu[0][i]);
        const [q1, q3] = quartiles(added);
        const m = median(added);
        log(`  added per pair: ${added.map((a) => a.toFixed(1)).join(', ')}`);
        // Against another build, the difference is the change's, not the policy's: no limit applies.
        const [limitCell, metCell] = against ? ['n/a', 'n/a'] : [`${limit} us`, m <= limit ? 'yes' : 'no'];
        lines.push(`| ${what} | ${median(cpu[0]).toFixed(1)} us | ${median(cpu[1]).toFixed(1)} us | **${m >= 0 ? '+' : ''}${m.toFixed(1)} us** | ${q1.toFixed(1)} to ${q3.toFixed(1)} | ${limitCell} | ${metCell} |`);
      } finally {
        for (const row of rows) {
          await stop(row.handle);
          for (const h of row.helpers) await stop(h);
        }
      }
    }
  } finally {
    await stop(upstream);
    rmSync(tmpDir, { recursive: true, force: true });
  }
  process.stdout.write(lines.join('\n') + '\n');
}

process.on('exit', () => killAllNow());
main().then(
  () => stopAll().then(() => process.exit(0)),
  (err) => {
    log(`paired: ${err.stack ?? err}`);
    void stopAll().then(() => process.exit(1));
  },
);

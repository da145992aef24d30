#!/usr/bin/env node
// Repeats `bench/run.mjs` for several rounds and reports, per target, the median of the per-round
// figures. A target such as "api-key adds <= 10 us" is a difference of two rows measured a minute
// apart; on a shared machine one round can be off by 10 us either way, so the median over rounds
// (each difference taken within its own round) is the figure to read. See docs/benchmarks.md.
//
//   node bench/rounds.mjs --rounds 5 -- --only portcullis-bare,portcullis-apikey --duration 5
//
// Everything after `--` goes to run.mjs unchanged (build first: this script does not).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split === -1 ? argv : argv.slice(0, split);
const passthrough = split === -1 ? [] : argv.slice(split + 1);
const roundsAt = own.indexOf('--rounds');
const rounds = roundsAt === -1 ? 5 : Number(own[roundsAt + 1]);
if (!Number.isInteger(rounds) || rounds < 1 || passthrough.includes('--json')) {
  process.stderr.write('usage: node bench/rounds.mjs [--rounds N] -- [run.mjs options, without --json]\n');
  process.exit(2);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'portcullis-rounds-'));
const results = [];
try {
  for (let i = 1; i <= rounds; i++) {
    process.stderr.write(`round ${i}/${rounds}\n`);
    const file = path.join(tmp, `round-${i}.json`);
    const run = spawnSync(process.execPath, [path.join(benchDir, 'run.mjs'), ...passthrough, '--json', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (run.status !== 0) throw new Error(`round ${i}: run.mjs exited ${run.status}`);
    results.push(JSON.parse(readFileSync(file, 'utf8')));
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2).replace(/\.?0+$/, ''));

console.log(`### Rows: median over ${rounds} rounds\n`);
console.log('| scenario | req/s | CPU us/req | CPU us/req per round |');
console.log('|---|---:|---:|---|');
for (const name of results[0].scenarios.map((s) => s.name)) {
  const rows = results.map((r) => r.scenarios.find((s) => s.name === name)).filter((s) => s?.cpu_us_per_req !== undefined);
  if (rows.length === 0) continue;
  const cpu = rows.map((r) => r.cpu_us_per_req);
  console.log(`| ${name} | ${fmt(median(rows.map((r) => r.rps)))} | ${fmt(median(cpu))} | ${cpu.map(fmt).join(', ')} |`);
}

console.log(`\n### Targets: median of the per-round figures\n`);
console.log('| target | median | per round | met in |');
console.log('|---|---:|---|---:|');
for (const target of results[0].targets) {
  const per = results.map((r) => r.targets.find((t) => t.id === target.id)).filter((t) => t !== undefined && t.value !== null);
  if (per.length === 0) continue;
  const met = per.filter((t) => t.status === 'met').length;
  console.log(`| ${target.text} | ${fmt(median(per.map((t) => t.value)))} | ${per.map((t) => fmt(t.value)).join(', ')} | ${met}/${per.length} |`);
}

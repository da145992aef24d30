#!/usr/bin/env node
// Machine instructions per request through the WAF engine, counted by valgrind's callgrind (build
// first; needs valgrind): `node bench/waf-instructions.mjs [--crs DIR] [--runs N] [--root DIR]... [--without ID,...] [--repeat N] [--cold]`.
//
// CPU time on a shared machine moves by more than one optimization saves (the same build measured
// 47-83 us a GET within minutes here, and A/A comparisons in one process spread +-4%). An
// instruction count does not move with what else the machine runs: three processes of one build
// counted within 0.4% of each other (with STEADY_HEAP below; up to 8% apart without it).
// `--repeat N` counts in N processes and reports the median and range. What V8 compiles depends on
// what ran before, though: another --runs or warm-up (WAF_INSTR_WARM_UP, rounds of every request,
// default 3000) moved one request's count by up to 17%. So compare builds at the same settings
// only, and trust a small difference when the requests agree on it. It misses what instructions
// hide (cache misses, branch mispredictions): it complements time, it does not replace it. Several --root DIRs (other
// checkouts, built) are counted in turn for a comparison; `--without ID,ID` counts without those
// rules as well (what they cost, with what they cause).
//
// `--cold` counts what the gateway pays and a loop does not: between two requests the gateway's
// HTTP work evicts the engine's code and data from the CPU caches (in process, reading 8 MB between
// requests took the gateway's GET from 29.5 to ~70 us). callgrind simulates this CPU's caches
// (32 KB L1i, 48 KB L1d, and a 1 MB last level standing for its L2), 4 MB are read between
// requests, and the misses of the last level per request are reported, code and data apart, the
// reads' own counts subtracted (counted alone in the same process). See docs/waf.md, the twelfth pass.
// See docs/waf.md, "Cost per request".
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCrsDir } from './lib/waf-scenario.mjs';
import { benchEngine, runExchange, wafBenchRequests } from './lib/waf-requests.mjs';

const self = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(self), '..');
const args = process.argv.slice(2);
const opt = (n) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const waitFor = async (file, seconds) => {
  for (let i = 0; i < seconds * 5; i++) {
    if (existsSync(file)) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${file}`);
};

/** Rounds of every request before counting: V8 compiles and recompiles hot code for a while, and in
 * --single-threaded mode that work is counted where it falls. At 400 rounds (the default until the
 * thirteenth pass) it still did: the GET counted 770 K at 400, 676 K at 1,200, 535 K at 3,000 and
 * 535 K at 6,000, TurboFan's graph reduction among the counted functions until 3,000. Counts taken
 * at 400 held compilation, and two builds that tiered up at different times differed by 48% on the
 * same code. */
const WARM_UP = Number(process.env.WAF_INSTR_WARM_UP ?? 3000);

/**
 * Under callgrind, with counting off: warm the engine up (the JIT must have settled), then for
 * each request let the parent switch counting on, run it `runs` times, and wait for the count to
 * be dumped. Files in `dir` are the handshake (valgrind's client requests are not reachable from JS).
 */
async function child(dir, root, crsDir, runs, without, cold) {
  const engine = await benchEngine(root, crsDir, without);
  const requests = Object.entries(wafBenchRequests());
  // --cold: a read of every line of 4 MB before each run (what evicts the caches), then counts in
  // pairs: the reads alone, then the reads with the request.
  const evict = new Uint8Array(cold ? 4 << 20 : 0);
  let sink = 0;
  const evictCaches = () => {
    for (let j = 0; j < evict.length; j += 64) sink += evict[j];
  };
  const once = (bench) => {
    const tx = runExchange(engine, bench);
    if (tx.interruption !== undefined) throw new Error(`the bench request was blocked by rule ${tx.interruption.ruleId}`);
  };
  for (let i = 0; i < WARM_UP; i++) for (const [, r] of requests) {
    evictCaches();
    once(r);
  }
  const counts = cold ? requests.flatMap(([, r]) => [undefined, r]) : requests.map(([, r]) => r);
  for (let k = 0; k < counts.length; k++) {
    // Each count starts with an empty young generation: the collections inside it are then the
    // ones its own runs cause, the same for the same build and --runs, not what the warm-up left.
    globalThis.gc({ type: 'minor' });
    writeFileSync(path.join(dir, `ready.${k}`), '');
    await waitFor(path.join(dir, `go.${k}`), 120);
    for (let i = 0; i < runs; i++) {
      evictCaches();
      if (counts[k] !== undefined) once(counts[k]);
    }
    writeFileSync(path.join(dir, `done.${k}`), String(sink));
    await waitFor(path.join(dir, `dumped.${k}`), 120);
  }
}

/**
 * Node flags for a steady count: a major GC of the whole heap (the compiled CRS included) falling
 * inside one count moved it by up to 8% between runs, so the old generation starts large enough
 * for none to be due, and no idle-time GC (memory reducer) or bytecode flushing runs between
 * counts. Young-generation collections stay: the requests' own garbage is part of their cost.
 */
const STEADY_HEAP = ['--initial-old-space-size=2048', '--no-memory-reducer', '--no-flush-bytecode', '--expose-gc'];

function control(pid, ...flags) {
  const r = spawnSync('callgrind_control', [...flags, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${flags.join(' ')} failed: ${r.stderr || r.stdout}`);
}

/** The caches --cold simulates: this host's (AMD Zen) L1i, L1d and L2, the L2 as callgrind's last level. */
const CACHE_SIM = ['--cache-sim=yes', '--I1=32768,8,64', '--D1=49152,12,64', '--LL=1048576,16,64'];

/** A dump's totals by event name (Ir; with the cache simulation also ILmr, DLmr, DLmw, ...). */
function totalsOf(text, file) {
  const events = /^events: (.+)$/m.exec(text);
  const totals = /^totals: ([\d ]+)$/m.exec(text);
  if (events === null || totals === null) throw new Error(`no totals in ${file}`);
  const values = totals[1].trim().split(/\s+/).map(Number);
  return Object.fromEntries(events[1].trim().split(/\s+/).map((name, i) => [name, values[i] ?? 0]));
}

/**
 * Per bench request, instructions per request with the build in `root`; with `cold`, instead
 * `{ ir, codeMisses, dataMisses }` per request (last-level misses, the cache reads' own subtracted).
 */
async function count(root, crsDir, runs, without = '', cold = false) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-instr-'));
  let proc;
  try {
    const out = path.join(dir, 'callgrind.out');
    const childArgs = [self, '--child', dir, '--root', root, '--crs', crsDir, '--runs', String(runs), '--without', without, ...(cold ? ['--cold'] : [])];
    proc = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', ...(cold ? CACHE_SIM : []), `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', ...STEADY_HEAP, ...childArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    const names = Object.keys(wafBenchRequests());
    const result = {};
    /** The counts in the child's order: with --cold, per request the cache reads alone, then with the request. */
    const dumps = [];
    for (let k = 0; k < (cold ? 2 : 1) * names.length; k++) {
      await Promise.race([waitFor(path.join(dir, `ready.${k}`), 600), exited.then(() => Promise.reject(new Error(`the counted process exited: ${stderr}`)))]);
      const before = new Set(readdirSync(dir));
      control(proc.pid, '-z'); // the counts since the last dump (the handshake's idle wait) are dropped
      control(proc.pid, '-i', 'on');
      writeFileSync(path.join(dir, `go.${k}`), '');
      await waitFor(path.join(dir, `done.${k}`), 600);
      control(proc.pid, '-i', 'off');
      control(proc.pid, '-d');
      const dump = readdirSync(dir).find((f) => f.startsWith('callgrind.out.') && !before.has(f));
      if (dump === undefined) throw new Error('callgrind wrote no dump');
      dumps.push(totalsOf(readFileSync(path.join(dir, dump), 'utf8'), dump));
      writeFileSync(path.join(dir, `dumped.${k}`), '');
    }
    await exited;
    const per = (total, base = 0) => Math.round((total - base) / runs);
    names.forEach((name, k) => {
      if (!cold) return void (result[name] = per(dumps[k].Ir));
      const [reads, both] = [dumps[2 * k], dumps[2 * k + 1]];
      result[name] = { ir: per(both.Ir, reads.Ir), codeMisses: per(both.ILmr, reads.ILmr), dataMisses: per(both.DLmr + both.DLmw, reads.DLmr + reads.DLmw) };
    });
    return result;
  } finally {
    // A count that failed leaves no valgrind behind.
    if (proc !== undefined && proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === '--child') {
  await child(args[1], opt('--root'), opt('--crs'), Number(opt('--runs')), (opt('--without') ?? '').split(',').filter(Boolean).map(Number), args.includes('--cold'));
} else {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is needed (apt-get install valgrind)');
  const crsDir = opt('--crs') ?? (await benchCrsDir(repoRoot));
  const cold = args.includes('--cold');
  // Each cold run also reads 4 MB under the cache simulation: fewer runs.
  const runs = Number(opt('--runs') ?? (cold ? 100 : 300));
  const roots = args.flatMap((a, i) => (a === '--root' ? [path.resolve(args[i + 1])] : []));
  const without = opt('--without');
  const repeat = Math.max(1, Number(opt('--repeat') ?? 1));
  const fmt = (n) => n.toLocaleString('en');
  /** Counts in `repeat` processes: per request, the median and (with repeats) the range. */
  const show = async (root, label, withoutIds) => {
    const all = [];
    // --repeat applies to the instruction counts: a cold count is one process's.
    for (let i = 0; i < (cold ? 1 : repeat); i++) all.push(await count(root, crsDir, runs, withoutIds, cold));
    if (cold) {
      const parts = Object.entries(all[0]).map(([name, c]) => `${name} ${fmt(c.ir)} instructions, ${fmt(c.codeMisses)} code and ${fmt(c.dataMisses)} data misses`);
      console.log(`${label} (cold, last level 1 MB): ${parts.join('; ')} per request`);
      return;
    }
    const parts = Object.keys(all[0]).map((name) => {
      const v = all.map((c) => c[name]).sort((a, b) => a - b);
      return `${name} ${fmt(v[v.length >> 1])}${repeat > 1 ? ` (${fmt(v[0])}-${fmt(v[v.length - 1])})` : ''}`;
    });
    console.log(`${label}: ${parts.join('; ')} instructions per request`);
  };
  for (const root of roots.length > 0 ? roots : [repoRoot]) {
    await show(root, root, '');
    if (without !== undefined) await show(root, `${root} without ${without}`, without);
  }
}

#!/usr/bin/env node
// In-process paired comparison of two builds of the WAF engine: `node bench/waf-engine-ab.mjs
// A_DIR B_DIR [--request JSON|GET|gateway] [--slices N] [--per N]` (each DIR a checkout or copy
// with `dist/` built, `bench/` and `node_modules/`, under the same parent as `shared/crs`).
// Pin it: `taskset -c 1 node bench/waf-engine-ab.mjs ../base .`.
//
// Both builds' engines are loaded into one process and run alternating slices of requests (A B,
// then B A, ...): a host that changes speed for seconds at a time (a pinned loop here switched
// between ~350 and ~650 us a JSON request) slows both sides of a pair alike. Prints each side's
// median CPU per request over slices and the median of the per-slice differences (B - A) with
// its interquartile range. See docs/benchmarks.md.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runExchange } from './lib/waf-requests.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const [rootA, rootB] = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')).map((d) => path.resolve(d));
if (rootA === undefined || rootB === undefined) throw new Error('usage: waf-engine-ab.mjs A_DIR B_DIR [--request JSON|GET|gateway] [--slices N] [--per N]');
const which = opt('--request', 'JSON');
const slices = Number(opt('--slices', 40));
const per = Number(opt('--per', 100));

/** A function that evaluates one new bench request with the engine of the build in `root`. */
async function runner(root) {
  const load = (p) => import(pathToFileURL(path.join(root, p)).href);
  const { benchCrsDir } = await load('bench/lib/waf-scenario.mjs');
  const { benchEngine, wafBenchRequests } = await load('bench/lib/waf-requests.mjs');
  const engine = await benchEngine(root, await benchCrsDir(root));
  const requests = wafBenchRequests();
  const name = Object.keys(requests).find((k) => k.startsWith(which));
  if (name === undefined) throw new Error(`no bench request starts with ${which}: ${Object.keys(requests).join(', ')}`);
  const { request, response } = requests[name];
  const bench = { request, response };
  return () => runExchange(engine, bench);
}

// As a gateway process runs (src/runtime/v8-tuning.ts).
(await import(pathToFileURL(path.join(rootB, 'dist/runtime/v8-tuning.js')).href)).tuneV8ForGateway();
const a = await runner(rootA);
const b = await runner(rootB);
for (let i = 0; i < 3000; i++) {
  a();
  b();
}
const slice = (run) => {
  const start = process.cpuUsage();
  for (let i = 0; i < per; i++) run();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / per;
};
const as = [];
const bs = [];
const diffs = [];
for (let s = 0; s < slices; s++) {
  let ta;
  let tb;
  // Each side goes first in every other pair.
  if (s % 2 === 0) {
    ta = slice(a);
    tb = slice(b);
  } else {
    tb = slice(b);
    ta = slice(a);
  }
  as.push(ta);
  bs.push(tb);
  diffs.push(tb - ta);
}
const sorted = (v) => [...v].sort((p, q) => p - q);
const at = (v, f) => sorted(v)[Math.floor(f * (v.length - 1))];
const med = (v) => at(v, 0.5);
console.log(
  `${which}: A ${med(as).toFixed(1)} us, B ${med(bs).toFixed(1)} us a request; B - A median of slices ` +
    `${med(diffs).toFixed(1)} us (IQR ${at(diffs, 0.25).toFixed(1)}..${at(diffs, 0.75).toFixed(1)}), ${((100 * med(diffs)) / med(as)).toFixed(1)}%`,
);

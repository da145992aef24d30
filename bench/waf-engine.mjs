#!/usr/bin/env node
// In-process cost of the WAF engine at paranoia level 1 (build first): CPU microseconds per
// request for a GET without a body and a ~4 KB JSON body, and the rules that cost the most.
// `node bench/waf-engine.mjs [--crs DIR] [--runs N] [--no-prefilter]` (--no-prefilter: every operator
// runs on every value, for before/after figures of the literal prefilter). See docs/waf.md.
// Pin it (`taskset -c 1 node bench/waf-engine.mjs`): unpinned, one process switched for seconds at
// a time between ~320 and ~560 us a JSON request on a shared host, and pinned it did not.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchCrsDir } from './lib/waf-scenario.mjs';
import { BROWSER_HEADERS as headers, benchEngine, fourKbJson } from './lib/waf-requests.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(pathToFileURL(path.join(repoRoot, 'dist', p)).href);
// As a gateway process runs (src/runtime/v8-tuning.ts): with V8's default, a process may settle
// at random into a mode where the engine costs 1.7-2x.
(await load('runtime/v8-tuning.js')).tuneV8ForGateway();
const args = process.argv.slice(2);
const opt = (n) => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const crsDir = opt('--crs') ?? (await benchCrsDir(repoRoot));
const runs = Number(opt('--runs') ?? 2000);
const engine = await benchEngine(repoRoot, crsDir);
const usePrefilter = !args.includes('--no-prefilter');
const evaluate = (req, tx = engine.newTransaction()) => {
  tx.usePrefilter = usePrefilter;
  engine.evaluateRequest(req, tx);
  // The gateway's log hook runs phase 5 on every exchange (reporting level 2 by default).
  return engine.evaluateLogging(tx);
};

const body = fourKbJson();
const requests = {
  'GET, no body': { method: 'GET', uri: '/api/items?page=2&sort=price', protocol: 'HTTP/1.1', headers, body: undefined, remoteAddr: '10.0.0.1' },
  [`JSON body, ${body.length} bytes`]: {
    method: 'POST', uri: '/api/orders', protocol: 'HTTP/1.1', body, remoteAddr: '10.0.0.1',
    headers: [...headers, ['Content-Type', 'application/json'], ['Content-Length', String(body.length)]],
  },
};
for (const [name, req] of Object.entries(requests)) {
  for (let i = 0; i < 300; i++) evaluate(req);
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const tx = engine.newTransaction();
    const t = process.cpuUsage();
    evaluate(req, tx);
    const d = process.cpuUsage(t);
    cpu.push(d.user + d.system);
  }
  cpu.sort((a, b) => a - b);
  const profile = new Map();
  for (let i = 0; i < 200; i++) {
    const tx = engine.newTransaction();
    tx.profile = profile;
    evaluate(req, tx);
  }
  const top = [...profile].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([id, us]) => `${id} ${(us / 200).toFixed(0)} us`);
  console.log(`${name}: median ${cpu[runs >> 1]} us CPU, p99 ${cpu[Math.floor(runs * 0.99)]} us; costliest rules (profiled): ${top.join(', ')}`);
}

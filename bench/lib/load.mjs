// Load generation: wrk when installed (one thread), else autocannon from node_modules. Both are
// pinned to the load CPU and run for a fixed duration; results are normalised to
// { requests, seconds, rps, p50_ms, p99_ms, errors }.
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runToEnd, which } from './procs.mjs';

/** Sent on every request, to every scenario: it makes the cors policy do its real work. */
export const BENCH_HEADERS = { Origin: 'https://app.example.com' };

export function detectLoadGenerator(preference, repoRoot) {
  const wrk = which('wrk');
  const autocannon = path.join(repoRoot, 'node_modules', 'autocannon', 'autocannon.js');
  const haveAc = existsSync(autocannon);
  if (preference === 'wrk') return wrk ? { kind: 'wrk', bin: wrk } : null;
  if (preference === 'autocannon') return haveAc ? { kind: 'autocannon', bin: autocannon } : null;
  if (wrk) return { kind: 'wrk', bin: wrk };
  if (haveAc) return { kind: 'autocannon', bin: autocannon };
  return null;
}

/**
 * One load run of `seconds` against url, sending BENCH_HEADERS and the scenario's `headers`. Resolves the normalised result, or { error } when the
 * generator failed (its stderr excerpt in the message).
 */
export async function runLoad(gen, url, { seconds, connections, cpus, taskset, headers = {}, body }) {
  // BENCH_HEADERS plus the scenario's own (auth); a scenario `body` is POSTed as JSON
  const all = { ...BENCH_HEADERS, ...headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
  const timeoutMs = (seconds + 30) * 1000;
  if (gen.kind === 'wrk') {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '5s'];
    for (const [k, v] of Object.entries(all)) args.push('-H', `${k}: ${v}`);
    if (body !== undefined) args.push('-s', wrkPostScript(body));
    args.push(url);
    const r = await runToEnd('wrk', gen.bin, args, { cpus, taskset, timeoutMs });
    if (r.timedOut) return { error: `wrk did not finish within ${timeoutMs} ms` };
    if (r.code !== 0) return { error: `wrk exited with ${r.code}: ${excerpt(r.stderr || r.stdout)}` };
    return parseWrk(r.stdout);
  }
  const args = [gen.bin, '-j', '-c', String(connections), '-d', String(seconds)];
  for (const [k, v] of Object.entries(all)) args.push('-H', `${k}=${v}`);
  if (body !== undefined) args.push('-m', 'POST', '-b', body);
  args.push(url);
  const r = await runToEnd('autocannon', process.execPath, args, { cpus, taskset, timeoutMs });
  if (r.timedOut) return { error: `autocannon did not finish within ${timeoutMs} ms` };
  if (r.code !== 0) return { error: `autocannon exited with ${r.code}: ${excerpt(r.stderr || r.stdout)}` };
  return parseAutocannon(r.stdout);
}

/** A wrk Lua script that POSTs `body` (written once per body to the temp folder). */
function wrkPostScript(body) {
  const file = path.join(os.tmpdir(), `portcullis-bench-post-${createHash('sha256').update(body).digest('hex').slice(0, 12)}.lua`);
  writeFileSync(file, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n`);
  return file;
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : NaN;
}

/** Parses `wrk --latency` output. */
export function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm').exec(out);
    return m ? durationMs(m[1]) : NaN;
  };
  const reqLine = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const requests = reqLine ? Number(reqLine[1]) : NaN;
  const seconds = reqLine ? durationMs(reqLine[2] + reqLine[3]) / 1000 : NaN;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const result = {
    requests,
    seconds,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50_ms: pct(50),
    p99_ms: pct(99),
    errors: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
  };
  if (![result.requests, result.rps, result.p50_ms, result.p99_ms].every(Number.isFinite)) {
    return { error: `could not parse wrk output: ${excerpt(out)}` };
  }
  return result;
}

/** Parses `autocannon -j` output (latencies are in ms). */
export function parseAutocannon(out) {
  let j;
  try {
    j = JSON.parse(out.slice(out.indexOf('{')));
  } catch {
    return { error: `could not parse autocannon output: ${excerpt(out)}` };
  }
  const requests = j.requests?.total ?? NaN;
  const seconds = j.duration ?? NaN;
  const result = {
    requests,
    seconds,
    rps: requests / seconds,
    p50_ms: j.latency?.p50 ?? NaN,
    p99_ms: j.latency?.p99 ?? NaN,
    errors: (j.errors ?? 0) + (j.timeouts ?? 0) + (j.non2xx ?? 0),
  };
  if (![result.requests, result.rps, result.p50_ms, result.p99_ms].every(Number.isFinite)) {
    return { error: `unexpected autocannon output: ${excerpt(out)}` };
  }
  return result;
}

export function excerpt(text, max = 400) {
  const t = String(text ?? '').trim().replace(/\s+\n/g, '\n');
  return t.length > max ? '...' + t.slice(-max) : t || '(no output)';
}

// Runs one scenario: start the proxy, wait for it, check it really proxies, warm up, measure
// `runs` windows (load result + /proc CPU of the process tree), stop it. Never throws for a
// failure of the proxy under test: the row carries the error instead.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { UPSTREAM_BODY } from './nginx.mjs';
import { BENCH_HEADERS, excerpt, runLoad } from './load.mjs';
import {
  clockTicksPerSecond,
  cpuSnapshot,
  cpuTicksBetween,
  machineBusyTicks,
  rssMb,
  selfAndReapedTicks,
  stop,
} from './procs.mjs';
import { freePort, request, waitReady } from './net.mjs';

const MAX_ERROR_SHARE = 0.01; // above 1% failed responses the figures are not a proxy's figures

export async function runScenario(name, def, ctx, log) {
  const row = { name, ok: false, error: null, notes: [], runs: [], reference: !!def.reference };
  let handle = null;
  let helpers = [];
  let headers = {};
  let body;
  let port;
  let rootPid;
  try {
    if (def.direct) {
      port = ctx.upstreamPort;
      rootPid = ctx.upstream.pid;
    } else {
      port = await freePort();
      let started;
      try {
        started = await def.start(ctx, port);
      } catch (err) {
        // a scenario's own setup (CLI, keys, helper servers) failing fails only that row
        row.error = `setup failed: ${err.message ?? err}`;
        return row;
      }
      helpers = started.helpers ?? [];
      headers = started.headers ?? {};
      body = started.body;
      if (started.error) {
        row.error = started.error;
        return row;
      }
      handle = started.handle;
      rootPid = handle.pid;
      const ready = await waitReady(port, { handle, deadlineMs: started.readyMs });
      if (!ready.ok) {
        row.error = `did not start: ${ready.reason}; stderr: ${excerpt(handle.stderr || handle.stdout)}`;
        return row;
      }
    }

    const sanity = (await checkProxying(port, headers, body)) ?? (def.authCheck ? await checkUnauthenticated(port) : null);
    if (sanity) {
      row.error = `sanity check failed: ${sanity}`;
      return row;
    }

    const url = `http://127.0.0.1:${port}/`;
    const loadOpts = { connections: ctx.opts.connections, cpus: ctx.layout.load, taskset: ctx.taskset, headers, body };
    if (ctx.opts.warmup > 0) {
      log(`  ${name}: warm-up ${ctx.opts.warmup}s`);
      const w = await runLoad(ctx.load, url, { ...loadOpts, seconds: ctx.opts.warmup });
      if (w.error) {
        row.error = `warm-up failed: ${died(handle) ?? w.error}`;
        return row;
      }
    }
    const hz = clockTicksPerSecond();
    for (let i = 0; i < ctx.opts.runs; i++) {
      const before = cpuSnapshot(rootPid);
      const upBefore = def.direct ? null : cpuSnapshot(ctx.upstream.pid);
      const [busy0, self0] = [machineBusyTicks(), selfAndReapedTicks()];
      const t0 = performance.now();
      const r = await runLoad(ctx.load, url, { ...loadOpts, seconds: ctx.opts.duration });
      const wall = (performance.now() - t0) / 1000;
      const after = cpuSnapshot(rootPid);
      const upTicks = def.direct ? 0 : cpuTicksBetween(upBefore, cpuSnapshot(ctx.upstream.pid));
      const [busy1, self1] = [machineBusyTicks(), selfAndReapedTicks()];
      const rss = rssMb(rootPid);
      if (died(handle)) {
        row.error = `during the run: ${died(handle)}`;
        return row;
      }
      if (r.error) {
        row.error = r.error;
        return row;
      }
      const proxyTicks = cpuTicksBetween(before, after);
      const cpuSeconds = proxyTicks / hz;
      // CPU used by everything that is not this benchmark, as a share of the whole machine
      const otherTicks = busy1 - busy0 - proxyTicks - upTicks - (self1 - self0);
      const otherLoad = Math.max(0, otherTicks / hz / (wall * ctx.cpuCount));
      const run = {
        rps: r.rps,
        p50_ms: r.p50_ms,
        p99_ms: r.p99_ms,
        cpu_us_per_req: r.requests > 0 ? (cpuSeconds * 1e6) / r.requests : null,
        cpu_util: cpuSeconds / wall,
        other_load: otherLoad,
        rss_mb: rss,
        requests: r.requests,
        errors: r.errors,
      };
      row.runs.push(run);
      log(
        `  ${name}: run ${i + 1}/${ctx.opts.runs}: ${Math.round(run.rps)} req/s, ` +
          `${fmt(run.cpu_us_per_req)} us CPU/req, ${Math.round(run.cpu_util * 100)}% CPU, p99 ${fmt(run.p99_ms, 2)} ms`,
      );
    }
    Object.assign(row, medianRun(row.runs));
    const errShare = row.errors / Math.max(1, row.requests);
    if (errShare > MAX_ERROR_SHARE) {
      row.error = `${row.errors} of ${row.requests} responses failed (non-2xx or socket errors): figures not valid`;
      return row;
    }
    // after the measurement, so that a policy bug cannot cost the figures
    if (def.policiesCheck) {
      row.notes.push(...(await checkPolicies(port)));
      await Promise.race([handle.exited, sleep(500)]); // a crash shows as an exit shortly after
      if (died(handle)) row.notes.push(`warning: the gateway died during the policy check: ${died(handle)}`);
    }
    if (row.errors > 0) row.notes.push(`${row.errors} failed responses of ${row.requests}`);
    if (row.other_load > 0.05) {
      row.notes.push(
        `other processes used ${Math.round(row.other_load * 100)}% of the machine during the run: ` +
          'req/s and latency are disturbed (CPU us/req much less)',
      );
    }
    row.ok = true;
    return row;
  } catch (err) {
    row.error = `harness error: ${err.stack ?? err}`;
    return row;
  } finally {
    if (handle) {
      await stop(handle);
      if (!row.ok && !row.error) row.error = 'stopped';
    }
    for (const h of helpers) await stop(h);
  }
}

/** Why the child is gone (exit status and stderr excerpt), or null while it runs. */
function died(handle) {
  if (!handle || handle.exitCode === undefined) return null;
  return `the process exited with ${handle.exitCode}; stderr: ${headTail(handle.stderr || handle.stdout)}`;
}

function headTail(text, head = 400, tail = 300) {
  const t = String(text ?? '').trim();
  return t.length > head + tail + 20 ? `${t.slice(0, head)} [...] ${t.slice(-tail)}` : t || '(no output)';
}

/** The run with the median req/s (lower middle for an even count), figures taken together. */
export function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)] };
}

/** null when the port proxies to the upstream (200 and its body), else what went wrong. */
async function checkProxying(port, extraHeaders = {}, body = undefined) {
  const what = body === undefined ? 'GET /' : 'POST /';
  try {
    const headers = { ...BENCH_HEADERS, ...extraHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const r = await request(port, { method: body === undefined ? 'GET' : 'POST', headers, body, timeoutMs: 5000 });
    if (r.status !== 200) return `${what} answered ${r.status}: ${excerpt(r.body, 200)}`;
    if (!r.body.includes(UPSTREAM_BODY)) return `${what} answered 200 without the upstream's body: ${excerpt(r.body, 200)}`;
    return null;
  } catch (err) {
    return `${what} failed: ${err.message}`;
  }
}

/** null when the port answers 401 to a request without credentials, else what went wrong. */
async function checkUnauthenticated(port) {
  try {
    const r = await request(port, { headers: BENCH_HEADERS, timeoutMs: 5000 });
    return r.status === 401 ? null : `GET / without credentials answered ${r.status}, expected 401: ${excerpt(r.body, 200)}`;
  } catch (err) {
    return `GET / without credentials failed: ${err.message}`;
  }
}

/** Warnings when the core policies do not look active (the row is still measured). */
async function checkPolicies(port) {
  const notes = [];
  try {
    const r = await request(port, { headers: BENCH_HEADERS, timeoutMs: 5000 });
    const h = r.headers;
    const security = ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'content-security-policy'];
    if (!security.some((k) => k in h)) notes.push('warning: no security header in the response (security-headers inactive?)');
    if (!('access-control-allow-origin' in h)) notes.push('warning: no Access-Control-Allow-Origin for an allowed Origin (cors inactive?)');
    const d = await request(port, { method: 'DELETE', headers: BENCH_HEADERS, timeoutMs: 5000 });
    if (d.status < 400) notes.push(`warning: DELETE answered ${d.status}, expected 405 (allowed-methods inactive?)`);
  } catch (err) {
    notes.push(`warning: policy check failed: ${err.message}`);
  }
  return notes;
}

export function fmt(n, digits = 1) {
  return n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

// Child processes of the benchmark: spawning (optionally pinned with taskset), bounded waits,
// cleanup on every exit path, and CPU / RSS accounting from /proc over a process tree.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Map(); // pid -> handle; every process we started and have not reaped yet
const TAIL_BYTES = 4000;

/** Absolute path of an executable on PATH (or in the sbin dirs), or null. */
export function which(name) {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/local/sbin']);
  for (const dir of dirs) {
    if (!dir) continue;
    const file = `${dir}/${name}`;
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Runs a short command to completion with a timeout; never throws. */
export function runSync(cmd, args, { timeoutMs = 10_000, env } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env: env ?? process.env });
  return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/**
 * Starts a long-running child in its own process group (so that the group, workers included, can
 * be stopped in one signal), pinned to `cpus` (a taskset list such as "0" or "0,1") when given.
 */
export function start(name, cmd, args, { cpus, taskset, env, cwd, keepBytes = TAIL_BYTES } = {}) {
  const argv = cpus && taskset ? [taskset, ['-c', cpus, cmd, ...args]] : [cmd, args];
  const child = spawn(argv[0], argv[1], {
    cwd,
    env: env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handle = {
    name,
    child,
    pid: child.pid,
    stdout: '',
    stderr: '',
    exitCode: undefined, // number, or a signal name, once exited
    exited: null,
  };
  const keep = (key) => (chunk) => {
    handle[key] = (handle[key] + chunk.toString('utf8')).slice(-keepBytes);
  };
  child.stdout.on('data', keep('stdout'));
  child.stderr.on('data', keep('stderr'));
  handle.exited = new Promise((resolve) => {
    child.on('error', (err) => {
      handle.stderr += `\nspawn error: ${err.message}`;
      handle.exitCode ??= 'spawn-error';
      live.delete(handle.pid);
      resolve(handle.exitCode);
    });
    child.on('exit', (code, signal) => {
      handle.exitCode = code ?? signal;
      live.delete(handle.pid);
      resolve(handle.exitCode);
    });
  });
  if (child.pid) live.set(child.pid, handle);
  return handle;
}

/** Runs a child to completion (or kills it at `timeoutMs`); resolves to { code, stdout, stderr, timedOut }. */
export async function runToEnd(name, cmd, args, { cpus, taskset, timeoutMs, env } = {}) {
  const h = start(name, cmd, args, { cpus, taskset, env, keepBytes: 1_000_000 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signalGroup(h.pid, 'SIGKILL');
  }, timeoutMs);
  const code = await h.exited;
  clearTimeout(timer);
  // stdout may still be draining after 'exit'
  await Promise.race([new Promise((r) => h.child.stdout.once('close', r)), sleep(1000)]);
  return { code, stdout: h.stdout, stderr: h.stderr, timedOut };
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Stops one child's process group: SIGTERM (or `signal`), then SIGKILL after `graceMs`. */
export async function stop(handle, { signal = 'SIGTERM', graceMs = 4000 } = {}) {
  if (!handle) return;
  if (handle.exitCode !== undefined) {
    signalGroup(handle.pid, 'SIGKILL'); // the leader is gone; sweep whatever is left of its group
    return;
  }
  signalGroup(handle.pid, signal);
  const done = await Promise.race([handle.exited.then(() => true), sleep(graceMs).then(() => false)]);
  // the leader may be gone while workers of its group linger: always sweep the group
  signalGroup(handle.pid, 'SIGKILL');
  if (!done) await Promise.race([handle.exited, sleep(2000)]);
}

export async function stopAll() {
  await Promise.all([...live.values()].map((h) => stop(h, { graceMs: 3000 })));
}

/** Last-resort synchronous cleanup for the 'exit' event. */
export function killAllNow() {
  for (const h of live.values()) signalGroup(h.pid, 'SIGKILL');
  live.clear();
}

export function liveCount() {
  return live.size;
}

// ---------------------------------------------------------------- /proc accounting

/** Parses /proc/<pid>/stat; null when the process is gone. */
function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' '); // field 3 onwards
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) }; // fields 4, 14, 15
}

/** pid and all its descendants (scan of /proc/*\/stat for parent ids). */
export function processTree(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = readStat(entry);
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(entry));
    children.set(st.ppid, list);
  }
  const out = [];
  const queue = [rootPid];
  while (queue.length && out.length < 10_000) {
    const pid = queue.shift();
    out.push(pid);
    for (const c of children.get(pid) ?? []) queue.push(c);
  }
  return out;
}

/** Map pid -> utime+stime (clock ticks) for the tree under rootPid. */
export function cpuSnapshot(rootPid) {
  const snap = new Map();
  for (const pid of processTree(rootPid)) {
    const st = readStat(pid);
    if (st) snap.set(pid, st.ticks);
  }
  return snap;
}

/** CPU ticks spent between two snapshots, over the processes alive at the end. */
export function cpuTicksBetween(before, after) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks;
}

/** Resident set size summed over the tree, in MiB. */
export function rssMb(rootPid) {
  let kb = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

let clkTck;
export function clockTicksPerSecond() {
  if (clkTck === undefined) {
    const r = runSync('getconf', ['CLK_TCK']);
    const n = Number(r.stdout.trim());
    clkTck = r.ok && n > 0 ? n : 100;
  }
  return clkTck;
}

/** CPU ids this process may run on (from taskset), else 0..n-1. */
export function allowedCpus(taskset, fallbackCount) {
  if (taskset) {
    const r = runSync(taskset, ['-pc', String(process.pid)]);
    const m = /list:\s*([\d,\-\s]+)$/m.exec(r.stdout);
    if (r.ok && m) {
      const ids = [];
      for (const part of m[1].trim().split(',')) {
        const [a, b] = part.split('-').map(Number);
        for (let i = a; i <= (Number.isFinite(b) ? b : a) && ids.length < 4096; i++) ids.push(i);
      }
      if (ids.length) return ids;
    }
  }
  return Array.from({ length: fallbackCount }, (_, i) => i);
}

/** Busy clock ticks of the whole machine (all CPUs) from /proc/stat: everything but idle and iowait. */
export function machineBusyTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal = 0] = f;
  return user + nice + system + irq + softirq + steal;
}

/** This process's CPU ticks plus those of its reaped children (the load generator runs). */
export function selfAndReapedTicks() {
  const rest = readFileSync('/proc/self/stat', 'utf8');
  const f = rest.slice(rest.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // fields 14-17
}

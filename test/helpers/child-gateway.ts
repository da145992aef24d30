import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const MAIN = join(ROOT, 'dist/main.js');
/** Built last among the files these tests need: if it is there, the build is recent enough. */
const MARKER = join(ROOT, 'dist/cluster/worker.js');

/**
 * Builds dist/ when it is missing (`npm test` builds before vitest; a single file run may not).
 * Test files run in parallel forks, so one builds under a lock and the others wait for it.
 */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(MARKER)) return;
  const lock = join(tmpdir(), 'portcullis-test-build.lock');
  try {
    if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
    mkdirSync(lock);
  } catch {
    await waitFor(() => existsSync(MARKER) || !existsSync(lock), 180_000, 'the build another test file runs');
    if (existsSync(MARKER)) return;
    return ensureBuilt();
  }
  try {
    // tsc emits even with type errors elsewhere; what matters is that the files exist.
    spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'ignore' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  if (!existsSync(MARKER)) throw new Error('npm run build did not produce dist/');
}

/** A port free right now: bound on 0, read, released. Child processes need to know it in advance. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Polls `check` every `intervalMs` until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs: number, what: string, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const tempDirs: string[] = [];

/** For afterAll: removes the folders tempDir() made. */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fresh folder for config files; removeTempDirs() deletes it. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-test-'));
  tempDirs.push(dir);
  return dir;
}

/** Replaces a file the way editors and config management do: write aside, then rename over it. */
export function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET on a fresh connection (no agent): spreads requests over cluster workers round-robin. */
export function getFresh(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

/** Status of a GET, or 0 when the connection fails. */
export async function statusOf(port: number, path: string): Promise<number> {
  try {
    return (await getFresh(port, path)).status;
  } catch {
    return 0;
  }
}

type LogLine = Record<string, unknown> & { msg?: string; pid?: number; level?: string };

/** `node dist/main.js start --config FILE` with its JSON log lines collected. */
export class ChildGateway {
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;
  private partial = '';

  constructor(configFile: string) {
    this.proc = spawn(process.execPath, [MAIN, 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this);
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.collect(chunk));
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    // 'close', not 'exit': it comes after the last output (of workers too, which share the pipes).
    this.exited = new Promise((done) => this.proc.once('close', (code, signal) => done({ code, signal })));
    void this.exited.then(() => live.delete(this));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Pids of the processes that logged `gateway listening`: the workers (or the process itself). */
  gatewayPids(): number[] {
    return [...new Set(this.lines.filter((l) => l.msg === 'gateway listening').map((l) => l.pid!))];
  }

  signal(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }

  waitForLine(match: (line: LogLine) => boolean, timeoutMs: number, what: string, from = 0): Promise<LogLine> {
    return waitFor(() => this.lines.slice(from).find(match), timeoutMs, `${what}\nstderr: ${this.stderr}`);
  }

  /** Kills the process and every gateway process it logged (workers exit with it anyway). */
  kill(): void {
    for (const pid of this.gatewayPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.proc.kill('SIGKILL');
  }

  private collect(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      if (line === '') continue;
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.stderr += `[stdout] ${line}\n`;
      }
    }
  }
}

const live = new Set<ChildGateway>();

/** For afterEach/afterAll: kills every child gateway still running, whatever the test did. */
export async function killChildren(): Promise<void> {
  const running = [...live];
  for (const child of running) child.kill();
  await Promise.all(running.map((c) => c.exited));
}

/** True once the process behind `pid` is gone, or a zombie nobody has reaped yet. */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** Prints a measured duration when PORTCULLIS_TEST_TIMINGS is set (for docs and reports). */
export function reportTiming(label: string, ms: number): void {
  if (process.env.PORTCULLIS_TEST_TIMINGS) process.stderr.write(`[timing] ${label}: ${Math.round(ms)} ms\n`);
}

import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './child-gateway.js';

/**
 * A private redis-server on a free port, for tests that stop and restart Redis: the shared server at
 * 6379 serves other test runs and must never be stopped. No persistence, so a restart starts empty
 * (as a failed-over replica that missed the last writes would).
 */
export class OwnRedis {
  port = 0;
  private proc: ChildProcess | undefined;

  /** `extraArgs`: more redis-server options (`--cluster-enabled yes` ...). */
  constructor(private readonly extraArgs: readonly string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.extraArgs], { stdio: 'ignore' });
    this.proc = proc;
    await waitFor(() => this.ping(), 10_000, `redis-server on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise((done) => proc.once('exit', done));
    proc.kill('SIGKILL');
    await exited;
    this.proc = undefined;
  }

  /** Commands of one name the server has run since start (INFO commandstats). */
  async calls(command: string): Promise<number> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      const info = await client.info('commandstats');
      const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
      return match === null ? 0 : Number(match[1]);
    } finally {
      client.disconnect();
    }
  }

  private async ping(): Promise<boolean> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
}

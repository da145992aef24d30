import cluster, { type Worker } from 'node:cluster';
import type { FSWatcher } from 'node:fs';
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createAdminServer } from '../admin/admin-server.js';
import { ClusterJwks } from './cluster-jwks.js';
import { ConfigError, formatIssue } from '../config/config-error.js';
import type { LoadedConfig } from '../config/load.js';
import { parseDuration } from '../config/units.js';
import { createLogger } from '../observability/logger.js';
import { listen } from '../proxy/listeners.js';
import { watchConfig } from '../cli/commands/start.js';
import { ClusterMetrics } from './cluster-metrics.js';
import { isLimitRequest, PrimaryLimits } from './limits.js';
import { isWorkerMessage, type PrimaryMessage, type WorkerMessage } from './protocol.js';
import { ClusterReload, readConfig } from './reload.js';
import { RestartPolicy } from './restart-policy.js';

/** Time the primary gives workers beyond `timeouts.shutdown` before killing them. */
const SHUTDOWN_MARGIN_MS = 2_000;

/**
 * `server.workers: N | auto`: forks the workers, serves the admin listener, watches the config,
 * restarts workers that die and drains them all on SIGTERM/SIGINT. Returns an exit code when it
 * cannot start; otherwise the process lives until shutdown.
 */
export async function runCluster(loaded: LoadedConfig): Promise<number | undefined> {
  // Read again to hold the exact text workers receive (the file may have changed since `loaded`).
  let current: { text: string; loaded: LoadedConfig };
  try {
    current = await readConfig(loaded.file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return 1;
  }
  const logger = createLogger(current.loaded.config.logging).child({ role: 'primary' });
  const primary = new ClusterPrimary(current.loaded, current.text, logger);
  await primary.start();
  return undefined;
}

class ClusterPrimary {
  private readonly desired: number;
  /** Live workers, by cluster id: whether they said hello (answer IPC) and have every listener bound. */
  private readonly workers = new Map<number, { worker: Worker; hello: boolean; listening: boolean }>();
  private readonly helloWaiters = new Set<() => void>();
  private readonly restarts = new RestartPolicy();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private readonly reload: ClusterReload;
  private readonly metrics: ClusterMetrics;
  private readonly limits = new PrimaryLimits();
  private readonly jwks = new ClusterJwks((worker, message) => this.send(worker, message));
  private admin: Server | undefined;
  private watcher: FSWatcher | undefined;
  private everReady = false;
  private stopping = false;
  private exitCode = 0;

  constructor(
    private readonly loaded: LoadedConfig,
    text: string,
    private readonly logger: Logger,
  ) {
    const workers = loaded.config.server.workers;
    this.desired = workers === 'auto' ? availableParallelism() : workers;
    this.reload = new ClusterReload(loaded, text, logger);
    this.metrics = new ClusterMetrics(() => ({ desired: this.desired, listening: this.listening() }));
  }

  async start(): Promise<void> {
    const { admin } = this.loaded.config;
    if (admin.enabled) {
      this.admin = createAdminServer({
        metrics: this.metrics.source(() => this.answering()),
        ready: () => !this.stopping && this.listening() === this.desired,
        phantomJwks: () => this.jwks.collect(this.helloWorkers()),
      });
      await listen(this.admin, admin.host, admin.port);
    }
    // Workers run worker.ts, not the CLI. Scheduling stays Node's default on Linux: the primary
    // accepts and hands connections out round-robin, which spreads load evenly across workers.
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker.js', import.meta.url)), args: [] });
    cluster.on('message', (worker, message: unknown) => {
      if (isLimitRequest(message)) return this.limits.answer(worker, message);
      if (isWorkerMessage(message)) this.onMessage(worker, message);
    });
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    for (let i = 0; i < this.desired; i++) this.fork();

    // Sent to workers that said hello; one still booting gets the new text when it does.
    const reload = (trigger: string) => {
      if (!this.stopping) void this.reload.request(trigger, () => (this.stopping ? [] : this.helloWorkers()));
    };
    process.on('SIGHUP', () => reload('SIGHUP'));
    this.watcher = watchConfig(this.loaded.file, () => reload('file'));
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    process.on('SIGINT', () => this.stop('SIGINT'));
    const address = this.admin?.address();
    this.logger.info({ workers: this.desired, admin_port: typeof address === 'object' ? address?.port : undefined }, 'cluster starting');
  }

  private fork(): void {
    // The worker count lets a worker size its local fallback limiter (ratelimit/backend.ts).
    const worker = cluster.fork({ PORTCULLIS_WORKERS: String(this.desired) });
    this.workers.set(worker.id, { worker, hello: false, listening: false });
    this.logger.info({ worker: worker.id, worker_pid: worker.process.pid }, 'worker forked');
  }

  /** Resolves when every live worker has said hello (bounded: a stuck worker cannot hold /metrics). */
  private answering(): Promise<void> {
    if (this.allHello()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.helloWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, 3_000);
      this.helloWaiters.add(done);
    });
  }

  private allHello(): boolean {
    for (const w of this.workers.values()) if (!w.hello) return false;
    return true;
  }

  private wakeHelloWaiters(): void {
    if (this.allHello()) for (const done of [...this.helloWaiters]) done();
  }

  private helloWorkers(): Worker[] {
    return [...this.workers.values()].filter((w) => w.hello).map((w) => w.worker);
  }

  private listening(): number {
    let count = 0;
    for (const w of this.workers.values()) if (w.listening) count++;
    return count;
  }

  private send(worker: Worker, message: PrimaryMessage): void {
    if (worker.isConnected()) worker.send(message);
  }

  private onMessage(worker: Worker, message: WorkerMessage): void {
    const state = this.workers.get(worker.id);
    if (state === undefined) return;
    switch (message.type) {
      case 'portcullis:hello':
        state.hello = true;
        this.wakeHelloWaiters();
        this.send(worker, { type: 'portcullis:config', file: this.loaded.file, text: this.reload.text });
        if (this.stopping) this.send(worker, { type: 'portcullis:shutdown' });
        return;
      case 'portcullis:listening':
        state.listening = true;
        if (!this.everReady && this.listening() === this.desired) {
          this.everReady = true;
          this.logger.info({ workers: this.desired, ports: message.ports }, 'cluster ready');
        }
        return;
      case 'portcullis:reloaded':
        this.reload.answered(worker, message.seq, message.ok);
        return;
      case 'portcullis:jwks':
        this.jwks.answered(worker, message.seq, message.keys);
        return;
    }
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.workers.delete(worker.id);
    this.reload.gone(worker);
    this.jwks.gone(worker);
    this.wakeHelloWaiters();
    const fields = { worker: worker.id, worker_pid: worker.process.pid, code, signal };
    if (this.stopping) {
      if (code !== 0) this.exitCode = 1;
      this.logger.info(fields, 'worker exited');
      if (this.workers.size === 0) this.finish();
      return;
    }
    this.logger.error(fields, 'worker exited unexpectedly');
    if (!this.everReady) {
      // Most likely the config cannot run here (port in use, unreadable certificate): fail fast.
      this.logger.fatal('a worker failed before the cluster was ready; stopping');
      return this.stop('startup failure', 1);
    }
    const delay = this.restarts.next();
    if (delay === undefined) {
      this.logger.fatal('workers keep crashing; giving up so a supervisor can step in');
      return this.stop('crash loop', 1);
    }
    this.metrics.restarts.inc();
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (!this.stopping) this.fork();
    }, delay);
    this.restartTimers.add(timer);
  }

  private stop(reason: string, exitCode = 0): void {
    if (this.stopping) return;
    this.stopping = true;
    this.exitCode = exitCode;
    this.watcher?.close();
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.logger.info({ reason, workers: this.workers.size }, 'shutting down');
    if (this.workers.size === 0) return this.finish();
    // A worker that has not said hello yet may not hear it; it is told when it does (onMessage).
    for (const { worker, hello } of this.workers.values()) if (hello) this.send(worker, { type: 'portcullis:shutdown' });
    const deadline = parseDuration(this.loaded.config.server.timeouts.shutdown) + SHUTDOWN_MARGIN_MS;
    setTimeout(() => {
      this.logger.warn({ workers: this.workers.size }, 'workers still running after the shutdown deadline; killing them');
      this.exitCode = 1;
      for (const { worker } of this.workers.values()) worker.process.kill('SIGKILL');
      setTimeout(() => this.finish(), 1_000).unref();
    }, deadline).unref();
  }

  private finish(): void {
    this.admin?.closeAllConnections();
    this.admin?.close();
    this.logger.info({ exit_code: this.exitCode }, 'cluster stopped');
    process.exit(this.exitCode);
  }
}

import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { loadConfigFile, type LoadedConfig } from './config/load.js';
import { parseDuration } from './config/units.js';
import { createAdminServer, registrySource, type AdminSources } from './admin/admin-server.js';
import { GatewayMetrics } from './observability/metrics.js';
import { createLogger } from './observability/logger.js';
import { handleClientError } from './proxy/client-error.js';
import { handleRequest } from './proxy/handle-request.js';
import { createListener, listen } from './proxy/listeners.js';
import { GatewayRuntime } from './proxy/runtime.js';
import { handleUpgrade } from './proxy/websocket.js';
import type { Socket } from 'node:net';

export interface GatewayOptions {
  logger?: Logger;
  metrics?: GatewayMetrics;
  /** Serve the admin listener from this process (false in cluster workers: the primary serves it). */
  admin?: boolean;
  /** Replaces the metrics source of the admin listener (the cluster primary aggregates workers). */
  adminMetrics?: AdminSources['metrics'];
  now?: () => number;
}

/**
 * A running gateway: listeners bound once, a config snapshot swapped atomically on reload, and a
 * graceful close. In-flight requests keep the snapshot they started on.
 */
export class Gateway {
  private runtime: GatewayRuntime;
  private readonly servers: Server[] = [];
  private adminServer: Server | undefined;
  private draining = false;
  readonly ports: number[] = [];
  adminPort: number | undefined;

  private constructor(
    loaded: LoadedConfig,
    readonly logger: Logger,
    readonly metrics: GatewayMetrics,
    private readonly options: GatewayOptions,
  ) {
    this.runtime = new GatewayRuntime(loaded, { logger, metrics, now: options.now ?? Date.now });
  }

  static async start(loaded: LoadedConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const logger = options.logger ?? createLogger(loaded.config.logging);
    const metrics = options.metrics ?? new GatewayMetrics();
    const gateway = new Gateway(loaded, logger, metrics, options);
    await gateway.bind();
    return gateway;
  }

  get config(): LoadedConfig {
    return this.runtime.loaded;
  }

  private async bind(): Promise<void> {
    const { config, dir } = this.runtime.loaded;
    this.runtime.start();
    for (const listener of config.server.listeners) {
      const srv = createListener(listener, config.server, dir, {
        request: (req, res, protocol) => {
          if (this.draining) res.shouldKeepAlive = false;
          handleRequest(this.runtime, req, res, protocol);
        },
        upgrade: (req, socket, head, protocol) => handleUpgrade(this.runtime, req, socket, head, protocol),
        clientError: (error, socket) => handleClientError(error, socket as Socket, this.logger, this.metrics),
      });
      this.servers.push(srv);
      this.ports.push(await listen(srv, listener.host, listener.port));
    }
    if (config.admin.enabled && this.options.admin !== false) {
      this.adminServer = createAdminServer({
        metrics: this.options.adminMetrics ?? registrySource(this.metrics.registry),
        ready: () => !this.draining,
      });
      this.adminPort = await listen(this.adminServer, config.admin.host, config.admin.port);
    }
    this.logger.info({ ports: this.ports, admin_port: this.adminPort, routes: config.routes.length }, 'gateway listening');
  }

  /**
   * Swaps in a new config. Compiles it fully first: if anything fails, the error is thrown and the
   * current snapshot keeps serving. Listener changes need a restart and are reported, not applied.
   */
  async reload(loaded: LoadedConfig): Promise<void> {
    let next: GatewayRuntime;
    try {
      next = new GatewayRuntime(loaded, this.runtime.deps, this.runtime);
    } catch (error) {
      this.metrics.configReloads.labels('rejected').inc();
      throw error;
    }
    const previous = this.runtime;
    if (JSON.stringify(previous.loaded.config.server.listeners) !== JSON.stringify(loaded.config.server.listeners)) {
      this.logger.warn('listener changes take effect on restart');
    }
    next.start();
    this.runtime = next;
    this.metrics.configReloads.labels('applied').inc();
    this.logger.info({ file: loaded.file, routes: loaded.config.routes.length }, 'config reloaded');
    void previous.retire().then(() => previous.close(next));
  }

  /** Reads the config file again; a bad file is logged and refused, the running config stays. */
  async reloadFromFile(): Promise<boolean> {
    try {
      await this.reload(loadConfigFile(this.runtime.loaded.file));
      return true;
    } catch (error) {
      this.metrics.configReloads.labels('rejected').inc();
      this.logger.error({ err: error }, 'config reload refused; the previous config keeps serving');
      return false;
    }
  }

  /** Stops accepting, lets in-flight requests finish up to the deadline, then closes everything. */
  async close(deadlineMs = parseDuration(this.runtime.loaded.config.server.timeouts.shutdown)): Promise<void> {
    this.draining = true;
    for (const srv of this.servers) {
      srv.close();
      srv.closeIdleConnections();
    }
    const drained = this.runtime.retire();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
    const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') this.logger.warn({ inflight: this.runtime.inflight }, 'shutdown deadline reached; closing connections');
    for (const srv of this.servers) srv.closeAllConnections();
    await this.runtime.close();
    await new Promise<void>((resolve) => (this.adminServer ? this.adminServer.close(() => resolve()) : resolve()));
    this.logger.info({ outcome }, 'gateway stopped');
    this.logger.flush?.();
  }
}

import type { Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { loadConfigFile, loadConfigText, type LoadedConfig } from './config/load.js';
import { parseDuration } from './config/units.js';
import { createAdminServer, registrySource, type AdminSources } from './admin/admin-server.js';
import { phantomPublicJwks } from './auth/introspection/phantom.js';
import { GatewayMetrics } from './observability/metrics.js';
import { applyLogLevel, createLoggers } from './observability/logger.js';
import { Backends } from './backends.js';
import { AccessLog, BatchedSink, type LineSink } from './observability/access-log.js';
import { handleClientError } from './proxy/client-error.js';
import { handleRequest } from './proxy/handle-request.js';
import { createListener, limitConnections, listen } from './proxy/listeners.js';
import { ConnectionLimiter } from './proxy/connection-limiter.js';
import { LoadShedder, type LagSource } from './proxy/load-shedder.js';
import { GatewayRuntime } from './proxy/runtime.js';
import { handleUpgrade } from './proxy/websocket.js';
import type { Socket } from 'node:net';
import type { AuditLog } from './audit/audit-log.js';
import { changeEntry } from './audit/entries.js';
import { openAuditLog } from './audit/open.js';
import { loadSpanFactory } from './observability/tracing/load.js';
import type { SpanFactory } from './observability/tracing/spans.js';

export interface GatewayOptions {
  logger?: Logger;
  /** Where access lines go (one JSON line each); by default the log destination. */
  accessSink?: LineSink;
  metrics?: GatewayMetrics;
  /** Serve the admin listener from this process (false in cluster workers: the primary serves it). */
  admin?: boolean;
  /** Replaces the metrics source of the admin listener (the cluster primary aggregates workers). */
  adminMetrics?: AdminSources['metrics'];
  now?: () => number;
  /** Event-loop delay source for load shedding; tests pass a fake. */
  lagSource?: LagSource;
}

const GATEWAY_ACTOR = { actor: 'gateway', source: null };

/**
 * A running gateway: listeners bound once, a config snapshot swapped atomically on reload, and a
 * graceful close. In-flight requests keep the snapshot they started on.
 */
export class Gateway {
  private runtime: GatewayRuntime;
  private readonly servers: Server[] = [];
  private adminServer: Server | undefined;
  private draining = false;
  private readonly backends: Backends;
  /** The audit log, opened once per process: changing `audit` takes a restart. */
  readonly audit: AuditLog | undefined;
  private closing: Promise<void> | undefined;
  /** Responses not yet closed, across every snapshot (a reload's retired ones included). */
  private readonly live = new Set<ServerResponse>();
  private onIdle: (() => void) | undefined;
  /** `server.limits.maxConnectionsPerIp`, shared by every listener; its cap follows reloads. */
  readonly connections: ConnectionLimiter;
  readonly loadShedder: LoadShedder;
  readonly ports: number[] = [];
  adminPort: number | undefined;

  private constructor(
    loaded: LoadedConfig,
    readonly logger: Logger,
    readonly metrics: GatewayMetrics,
    private readonly options: GatewayOptions,
    /** OpenTelemetry spans, set up once per process: changing `tracing.enabled` or its exporter takes a restart. */
    private readonly spans: SpanFactory | undefined,
  ) {
    // Created whenever there is a sink: `logging.accessLog` is checked per snapshot, so a reload can toggle it.
    const accessLog = options.accessSink === undefined ? undefined : new AccessLog(options.accessSink);
    this.backends = new Backends(loaded.config, loaded.dir, logger);
    const now = options.now ?? Date.now;
    this.loadShedder = new LoadShedder(metrics, logger, now, options.lagSource);
    this.audit = openAuditLog(loaded.config.audit, loaded.dir, { store: this.backends.store, logger, now });
    this.runtime = new GatewayRuntime(loaded, { logger, accessLog, backends: this.backends, metrics, now, loadShedder: this.loadShedder, audit: this.audit, spans });
    this.connections = new ConnectionLimiter(loaded.config.server.limits.maxConnectionsPerIp, (ip) => this.runtime.trustedProxies.trusts(ip));
    metrics.countInflight(() => this.live.size);
  }

  static async start(loaded: LoadedConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const loggers = options.logger === undefined ? createLoggers(loaded.config.logging) : undefined;
    const logger = options.logger ?? loggers!.logger;
    if (loggers !== undefined && options.accessSink === undefined) options = { ...options, accessSink: new BatchedSink(loggers.destination) };
    const metrics = options.metrics ?? new GatewayMetrics();
    const gateway = new Gateway(loaded, logger, metrics, options, await loadSpanFactory(loaded.config.tracing, logger));
    await gateway.bind();
    return gateway;
  }

  get config(): LoadedConfig {
    return this.runtime.loaded;
  }

  private async bind(): Promise<void> {
    const { config, dir } = this.runtime.loaded;
    this.runtime.start();
    this.loadShedder.configure(config.server.loadShedding);
    this.metrics.configure(config.metrics);
    for (const listener of config.server.listeners) {
      const srv = createListener(listener, config.server, dir, {
        request: (req, res, protocol) => {
          this.track(res);
          if (this.draining) res.shouldKeepAlive = false;
          handleRequest(this.runtime, req, res, protocol);
        },
        upgrade: (req, socket, head, protocol) => handleUpgrade(this.runtime, req, socket, head, protocol),
        clientError: (error, socket) => handleClientError(error, socket as Socket, this.logger, this.metrics),
        tlsError: (error, socket) => {
          this.metrics.tlsHandshakeErrors.labels(listener.name).inc();
          this.logger.debug({ listener: listener.name, code: error.code, client_ip: (socket as Socket).remoteAddress }, 'TLS handshake failed');
        },
      });
      limitConnections(srv, this.connections, (socket) => {
        this.metrics.connectionsRefused.labels(listener.name, 'per_ip_limit').inc();
        this.logger.debug({ listener: listener.name, client_ip: socket.remoteAddress }, 'connection refused: per-IP connection limit');
      });
      this.servers.push(srv);
      this.ports.push(await listen(srv, listener.host, listener.port));
    }
    if (config.admin.enabled && this.options.admin !== false) {
      this.adminServer = createAdminServer({
        metrics: this.options.adminMetrics ?? registrySource(this.metrics.registry),
        ready: () => !this.draining,
        // Every phantom signer of this process, a reload's outgoing snapshot included until it closes.
        phantomJwks: async () => phantomPublicJwks(),
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
      this.auditReload(loaded.file, 'rejected', (error as Error).message);
      throw error;
    }
    this.auditReload(loaded.file, 'applied', null);
    const previous = this.runtime;
    if (JSON.stringify(previous.loaded.config.server.listeners) !== JSON.stringify(loaded.config.server.listeners)) {
      this.logger.warn('listener changes take effect on restart');
    }
    if (exporterSettings(previous.loaded) !== exporterSettings(loaded)) this.logger.warn('tracing: enabling, disabling or changing the exporter takes effect on restart');
    next.start();
    this.runtime = next;
    applyLogLevel(this.logger, loaded.config.logging.level);
    this.connections.max = loaded.config.server.limits.maxConnectionsPerIp;
    this.loadShedder.configure(loaded.config.server.loadShedding);
    this.metrics.configure(loaded.config.metrics);
    this.metrics.configReloads.labels('applied').inc();
    this.logger.info({ file: loaded.file, routes: loaded.config.routes.length }, 'config reloaded');
    void previous.retire().then(() => previous.close(next));
  }

  private auditReload(file: string, outcome: 'applied' | 'rejected', reason: string | null): void {
    this.audit?.record(changeEntry('config', GATEWAY_ACTOR, 'config.reload', file, outcome, (this.options.now ?? Date.now)(), { pid: process.pid }, reason?.slice(0, 1024) ?? null));
  }

  /** Reads the config file again; a bad file is logged and refused, the running config stays. */
  reloadFromFile(): Promise<boolean> {
    return this.tryReload(() => loadConfigFile(this.runtime.loaded.file));
  }

  /** Reloads from config text (the cluster primary sends the text it validated, so workers agree). */
  reloadFromText(text: string, file = this.runtime.loaded.file): Promise<boolean> {
    return this.tryReload(() => loadConfigText(text, file));
  }

  private async tryReload(load: () => LoadedConfig): Promise<boolean> {
    let loaded: LoadedConfig;
    try {
      loaded = load();
    } catch (error) {
      // reload() counts its own rejections; a file that does not even load is counted here.
      this.metrics.configReloads.labels('rejected').inc();
      this.auditReload(this.runtime.loaded.file, 'rejected', (error as Error).message);
      this.logger.error({ err: error }, 'config reload refused; the previous config keeps serving');
      return false;
    }
    try {
      await this.reload(loaded);
      return true;
    } catch (error) {
      this.logger.error({ err: error }, 'config reload refused; the previous config keeps serving');
      return false;
    }
  }

  /**
   * Stops accepting, lets in-flight requests finish up to the deadline, then closes everything.
   * Safe to call more than once (a signal and the cluster primary may both ask): every call
   * shares the first one's drain.
   */
  close(deadlineMs = parseDuration(this.runtime.loaded.config.server.timeouts.shutdown)): Promise<void> {
    this.closing ??= this.drainAndClose(deadlineMs);
    return this.closing;
  }

  private track(res: ServerResponse): void {
    this.live.add(res);
    res.once('close', () => {
      this.live.delete(res);
      if (this.live.size === 0) this.onIdle?.();
    });
  }

  private async drainAndClose(deadlineMs: number): Promise<void> {
    this.draining = true;
    // Responses not started yet announce `Connection: close` (RFC 9112 section 9.6), so their
    // clients reconnect (to another instance) instead of reusing a connection about to close.
    for (const res of this.live) if (!res.headersSent) res.shouldKeepAlive = false;
    for (const srv of this.servers) {
      srv.close();
      srv.closeIdleConnections();
    }
    const outcome = await this.drained(deadlineMs);
    if (outcome === 'deadline') {
      this.logger.warn({ inflight: Math.max(this.live.size, this.runtime.inflight) }, 'shutdown deadline reached; closing connections');
    }
    for (const srv of this.servers) srv.closeAllConnections();
    this.loadShedder.close();
    await this.runtime.close();
    await this.audit?.close();
    // Spans of the last requests are exported before the process goes (for at most 2 s: otel.ts).
    await this.spans?.shutdown();
    await this.backends.close();
    await new Promise<void>((resolve) => {
      if (this.adminServer === undefined) return resolve();
      this.adminServer.close(() => resolve());
      this.adminServer.closeAllConnections();
    });
    this.logger.info({ outcome }, 'gateway stopped');
    if (this.options.accessSink instanceof BatchedSink) this.options.accessSink.close();
    this.logger.flush?.();
  }

  /**
   * The current snapshot's requests and WebSocket tunnels first, then every live response: requests
   * still running on a snapshot retired by a reload, and requests that arrived on kept-alive
   * connections meanwhile, finish too.
   */
  private drained(deadlineMs: number): Promise<'drained' | 'deadline'> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs)));
    const drained = this.runtime
      .retire()
      .then(() => this.noLiveResponses())
      .then(() => 'drained' as const);
    return Promise.race([drained, deadline]).finally(() => clearTimeout(timer));
  }

  private noLiveResponses(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.onIdle = resolve));
  }
}

/** The `tracing` settings fixed per process; `continueFrom` and `sampleRatio` follow reloads. */
function exporterSettings(loaded: LoadedConfig): string {
  const { continueFrom: _continueFrom, sampleRatio: _sampleRatio, ...rest } = loaded.config.tracing;
  return JSON.stringify(rest);
}

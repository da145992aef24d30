import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Gateway } from '../gateway.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { tuneV8ForGateway } from '../runtime/v8-tuning.js';
import { isPrimaryMessage, type PrimaryMessage, type WorkerMessage } from './protocol.js';

type ConfigMessage = Extract<PrimaryMessage, { type: 'portcullis:config' }>;
type ReloadMessage = Extract<PrimaryMessage, { type: 'portcullis:reload' }>;

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/**
 * A cluster worker: asks the primary for the config, runs the gateway on the listeners the cluster
 * shares (the primary accepts connections and hands them out round-robin), applies the reloads
 * and the shutdown the primary sends. The primary serves the admin listener and watches the file.
 */
export async function runWorker(): Promise<void> {
  tuneV8ForGateway();
  // The primary coordinates reloads; a SIGHUP sent to the whole process group must not kill us.
  process.on('SIGHUP', () => undefined);
  // Answer the primary's metric requests from the start: it asks every connected worker and would
  // wait for one that does not answer. Constructing an AggregatorRegistry attaches prom-client's
  // answering listener; the gateway's registry is not the global one, so it must be named.
  const metrics = new GatewayMetrics();
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Until the gateway runs, a reload is kept for later and a shutdown noted; then both act at once.
  let queued: ReloadMessage | undefined;
  let shutdownRequested = false;
  let onReload: (message: ReloadMessage) => void = (message) => (queued = message);
  let onShutdown: () => void = () => (shutdownRequested = true);
  const first = new Promise<ConfigMessage>((resolve) => {
    process.on('message', (message: unknown) => {
      if (!isPrimaryMessage(message)) return;
      if (message.type === 'portcullis:config') resolve(message);
      else if (message.type === 'portcullis:reload') onReload(message);
      else if (message.type === 'portcullis:jwks-request') void answerJwks(message.seq);
      else onShutdown();
    });
  });
  // The listener is attached: messages sent before it would have been dropped, so ask only now.
  send({ type: 'portcullis:hello' });
  // The gateway's modules load after the hello: the sooner it goes, the sooner the primary's
  // /metrics stops waiting for this worker (see ClusterMetrics.source).
  const [{ loadConfigText }, { createLoggers }, { drainAndExit, runGateway }, { BatchedSink }] = await Promise.all([
    import('../config/load.js'),
    import('../observability/logger.js'),
    import('../cli/commands/start.js'),
    import('../observability/access-log.js'),
  ]);
  const { file, text } = await first;
  if (shutdownRequested) process.exit(0);

  const loaded = loadConfigText(text, file);
  const loggers = createLoggers(loaded.config.logging);
  const logger = loggers.logger.child({ worker: cluster.worker?.id });
  const gateway = await runGateway(loaded, { admin: false, watch: false, hangup: false, logger, accessSink: new BatchedSink(loggers.destination), metrics });
  onShutdown = () => drainAndExit(gateway, 'primary');
  drainWhenOrphaned(() => drainAndExit(gateway, 'primary gone'));
  onReload = (message) => void reload(gateway, message);
  if (shutdownRequested) {
    onShutdown();
    return;
  }
  if (queued !== undefined) await reload(gateway, queued);
  send({ type: 'portcullis:listening', ports: gateway.ports });
}

/**
 * The primary died (kill -9, OOM): node:cluster would exit this worker on the spot, cutting every
 * request in flight. The listening socket belonged to the primary, so no new connection arrives
 * anyway; the connections this worker holds are drained like on SIGTERM. Marking the disconnect as
 * expected is what stops node:cluster's own exit: its child side checks `exitedAfterDisconnect`
 * right after emitting 'disconnect' (lib/internal/cluster/child.js).
 */
function drainWhenOrphaned(drain: () => void): void {
  const worker = cluster.worker;
  if (worker === undefined) return;
  worker.once('disconnect', () => {
    if (worker.exitedAfterDisconnect === true) return;
    worker.exitedAfterDisconnect = true;
    drain();
  });
}

/** The phantom signers of this worker (none until its config is compiled): loaded lazily, like the gateway. */
async function answerJwks(seq: number): Promise<void> {
  const { phantomPublicJwks } = await import('../auth/introspection/phantom.js');
  send({ type: 'portcullis:jwks', seq, keys: phantomPublicJwks().keys });
}

async function reload(gateway: Gateway, message: ReloadMessage): Promise<void> {
  const ok = await gateway.reloadFromText(message.text, message.file);
  send({ type: 'portcullis:reloaded', seq: message.seq, ok });
}

// Entry point: the primary forks this file (cluster.setupPrimary({ exec })).
if (cluster.isWorker) {
  runWorker().catch((error: unknown) => {
    process.stderr.write(`portcullis worker ${process.pid}: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}

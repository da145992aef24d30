import { OFFLINE_BACKENDS } from '../backends.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { silentLogger } from '../observability/logger.js';
import { GatewayRuntime } from '../proxy/runtime.js';
import type { LoadedConfig } from './load.js';

/**
 * Compiles a loaded config the way the gateway would (every policy's `create`, every route and
 * upstream) without binding or starting anything, then discards it. Throws the ConfigError a
 * start would. Used by `portcullis validate`, so offline checks catch what a start would catch.
 * Policies must not do I/O in `create` for this to stay offline.
 */
export async function compileCheck(loaded: LoadedConfig): Promise<void> {
  const runtime = new GatewayRuntime(loaded, { logger: silentLogger(), accessLog: undefined, backends: OFFLINE_BACKENDS, metrics: new GatewayMetrics({ defaultMetrics: false }), now: Date.now });
  await runtime.close();
}

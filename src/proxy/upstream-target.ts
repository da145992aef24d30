import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pool } from 'undici';
import { parseDuration } from '../config/units.js';
import type { UpstreamConfig } from '../config/schema.js';

/** One server of an upstream: its connection pool and what health checks know about it. */
export class UpstreamTarget {
  readonly url: URL;
  readonly origin: string;
  /** `host[:port]` as sent in the Host header when the route does not preserve the client's. */
  readonly hostHeader: string;
  readonly weight: number;
  readonly pool: Pool;
  inflight = 0;
  consecutiveFailures = 0;
  /** Passive health: down until this time (ms since epoch); 0 when up. */
  downUntil = 0;
  /** Active health: false once the probe's unhealthy threshold is reached. */
  activeHealthy = true;
  probeSuccesses = 0;
  probeFailures = 0;
  /** Smooth weighted round robin state (nginx's algorithm). */
  currentWeight = 0;

  constructor(url: string, weight: number, config: UpstreamConfig, configDir: string) {
    this.url = new URL(url);
    this.origin = this.url.origin;
    this.hostHeader = this.url.host;
    this.weight = weight;
    const tls = config.tls;
    const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(resolve(configDir, file)));
    this.pool = new Pool(this.origin, {
      connections: config.connections,
      pipelining: 1,
      connectTimeout: parseDuration(config.timeouts.connect),
      headersTimeout: parseDuration(config.timeouts.headers),
      bodyTimeout: parseDuration(config.timeouts.idle),
      keepAliveTimeout: 4_000,
      // Let our own request-size and header policies decide; undici must not re-limit the upstream head.
      maxHeaderSize: 64 * 1024,
      connect:
        this.url.protocol === 'https:'
          ? {
              ca: read(tls?.ca),
              cert: read(tls?.cert),
              key: read(tls?.key),
              servername: tls?.servername ?? this.url.hostname,
              rejectUnauthorized: tls?.rejectUnauthorized ?? true,
              minVersion: 'TLSv1.2',
            }
          : undefined,
    });
  }

  isAvailable(now: number): boolean {
    return this.activeHealthy && (this.downUntil === 0 || this.downUntil <= now);
  }
}

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Pool } from 'undici';
import { parseDuration } from '../config/units.js';
import type { UpstreamConfig } from '../config/schema.js';
import type { CircuitBreaker } from './circuit-breaker.js';

/** One server of an upstream: its connection pool and what health checks know about it. */
export class UpstreamTarget {
  readonly url: URL;
  readonly origin: string;
  /** `host[:port]` as sent in the Host header when the route does not preserve the client's. */
  readonly hostHeader: string;
  readonly weight: number;
  readonly pool: Pool;
  /**
   * TLS settings for connections to an https:// target, read from disk once at load: the pool,
   * the health probe and WebSocket tunnels all use them, so no request reads a file.
   */
  readonly tls: ConnectionOptions | undefined;
  inflight = 0;
  /**
   * Passive health and the circuit breaker (one mechanism, see upstream.ts); undefined when both
   * are off. Set by the upstream, which owns the settings and the reporting.
   */
  circuit: CircuitBreaker | undefined = undefined;
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
    this.tls = this.url.protocol === 'https:' ? tlsOptions(this.url, config, configDir) : undefined;
    this.pool = new Pool(this.origin, {
      connections: config.connections,
      pipelining: 1,
      connectTimeout: parseDuration(config.timeouts.connect),
      headersTimeout: parseDuration(config.timeouts.headers),
      bodyTimeout: parseDuration(config.timeouts.idle),
      keepAliveTimeout: 4_000,
      // Let our own request-size and header policies decide; undici must not re-limit the upstream head.
      maxHeaderSize: 64 * 1024,
      connect: this.tls,
    });
  }

  isAvailable(now: number): boolean {
    return this.activeHealthy && (this.circuit === undefined || this.circuit.canPass(now));
  }
}

/**
 * `ca` replaces the default roots for this upstream (a private CA trusts only itself); `cert`/`key`
 * present a client certificate (mutual TLS, RFC 8446 section 4.4.2). The certificate is always
 * verified against `servername` or the URL host unless `rejectUnauthorized` is false.
 */
function tlsOptions(url: URL, config: UpstreamConfig, configDir: string): ConnectionOptions {
  const tls = config.tls;
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(resolve(configDir, file)));
  // RFC 6066 section 3: SNI carries host names only, never IP literals. For an IP target Node
  // checks the certificate's IP SANs against the host instead.
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const servername = tls?.servername ?? (isIP(hostname) === 0 ? hostname : undefined);
  const options: ConnectionOptions = {
    ca: read(tls?.ca),
    cert: read(tls?.cert),
    key: read(tls?.key),
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    minVersion: 'TLSv1.2',
  };
  if (servername !== undefined) options.servername = servername;
  return options;
}

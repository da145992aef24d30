/**
 * The IPC messages between the cluster primary and its workers. prom-client's own metric requests
 * travel on the same channel with their own `type`s; everything here is prefixed so neither side
 * mistakes the other's. The workers' memory rate limits ask the primary with their own pair,
 * `portcullis:limit` / `portcullis:limit-result` (src/ratelimit/primary-client.ts, src/cluster/limits.ts).
 */

/** Primary to worker. */
export type PrimaryMessage =
  /** The config to start with: the last one the primary validated and the workers accepted. */
  | { type: 'portcullis:config'; file: string; text: string }
  /** Swap in this config; answer with `reloaded` and the same `seq`. */
  | { type: 'portcullis:reload'; seq: number; file: string; text: string }
  /** Drain and exit. */
  | { type: 'portcullis:shutdown' }
  /** Send your phantom-token public keys, answering with `jwks` and the same `seq`. */
  | { type: 'portcullis:jwks-request'; seq: number };

/** Worker to primary. */
export type WorkerMessage =
  /** Sent once the worker listens for messages: asks for the config. */
  | { type: 'portcullis:hello' }
  /** Every listener is bound: the worker takes traffic. */
  | { type: 'portcullis:listening'; ports: number[] }
  | { type: 'portcullis:reloaded'; seq: number; ok: boolean }
  /** This worker's phantom-token public keys (JWKs), for the primary's admin JWKS. */
  | { type: 'portcullis:jwks'; seq: number; keys: object[] };

const PRIMARY_TYPES = new Set(['portcullis:config', 'portcullis:reload', 'portcullis:shutdown', 'portcullis:jwks-request']);
const WORKER_TYPES = new Set(['portcullis:hello', 'portcullis:listening', 'portcullis:reloaded', 'portcullis:jwks']);

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  return typeof message === 'object' && message !== null && PRIMARY_TYPES.has((message as { type?: unknown }).type as string);
}

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return typeof message === 'object' && message !== null && WORKER_TYPES.has((message as { type?: unknown }).type as string);
}

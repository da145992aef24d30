import type { TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { HeaderList } from './header-list.js';
import type { RequestContext } from './context.js';
import type { Phase } from './phases.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { StateStore } from '../state/types.js';
import type { Store } from '../storage/types.js';
import type { AuditEntry } from '../audit/record.js';

export type PolicyMode = 'enforce' | 'monitor';
export type FailureMode = 'open' | 'closed';

/** What a policy may use from the outside world. Injected, so tests can pass real or in-memory backends. */
export interface PolicyDeps {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Milliseconds since the epoch; tests pass a fake. */
  readonly now: () => number;
  /** The route this instance serves, or '*' for the not-found chain. */
  readonly routeName: string;
  /** Folder of the config file, for resolving relative paths in policy config. */
  readonly configDir: string;
  /** Consumers and credentials (SQLite or PostgreSQL), opened on first call and shared. */
  readonly store: () => Promise<Store>;
  /** Caches, nonces, lockouts, counters (memory or Redis), opened on first call and shared. */
  readonly state: () => Promise<StateStore>;
  /** Writes an audit record (bans, lockouts) when the audit log is enabled; absent otherwise. */
  readonly audit?: (entry: AuditEntry) => void;
}

/** The per-route instance a descriptor's `create` returns. Every hook is optional. */
export interface PolicyInstance {
  /**
   * Runs in the descriptor's phase. Return nothing to continue, throw a `GatewayError` to deny,
   * call `ctx.respond()` to answer locally. May return a promise; a synchronous policy should not.
   * Any other thrown error is an infrastructure fault, handled per `failureMode`.
   */
  handle?(ctx: RequestContext): void | Promise<void>;
  /**
   * Called instead of simply continuing when `handle` faulted and the step's failureMode is `open`:
   * a degraded decision (a rate limit falls back to a local limiter). Synchronous; may throw a
   * `GatewayError` to deny, treated like a denial from `handle` (monitor mode records it).
   */
  failOpen?(ctx: RequestContext, fault: unknown): void;
  /** Edits the response head (upstream, local reply or error) before it is written. Synchronous. */
  onResponse?(ctx: RequestContext, head: HeaderList, status: number): void;
  /**
   * Asks to see this upstream response's body before it is sent (response filtering, validation,
   * redaction, WAF response rules). Synchronous; runs after every `onResponse`. Return undefined to
   * let the body stream untouched (the default, and the fast path).
   */
  wantsResponseBody?(ctx: RequestContext, head: HeaderList, status: number): ResponseBodyRequest | undefined;
  /**
   * Reads or rewrites the buffered, decoded upstream body (last attached policy first, like
   * `onResponse`); returns the body to send, the same buffer when unchanged. It may edit `head`
   * (Content-Length is set afterwards). Throwing a GatewayError answers with that error instead.
   */
  onResponseBody?(ctx: RequestContext, body: Buffer, head: HeaderList, status: number): Buffer | Promise<Buffer>;
  /** Observes the finished exchange. Cannot change it; must not throw. */
  log?(ctx: RequestContext): void;
  /** Releases timers and connections when the config snapshot is retired. */
  close?(): void | Promise<void>;
}

/** What a policy needs to inspect a response body. With several policies the smallest cap wins, and `block` over `pass`. */
export interface ResponseBodyRequest {
  /** Bytes buffered at most (after decoding). */
  readonly maxBytes: number;
  /**
   * Past `maxBytes` (or with a content coding the gateway cannot decode): `block` answers 502
   * GW_RESPONSE_TOO_LARGE rather than pass an unchecked body; `pass` streams it on unchecked (logged).
   */
  readonly overflow: 'block' | 'pass';
}

/** A problem `check` found, located inside the policy's config (`['rules', 2, 'when']`). */
export interface ConfigProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface PolicyDescriptor<Config = unknown> {
  readonly name: string;
  readonly version: string;
  readonly phase: Phase;
  readonly description: string;
  /** TypeBox schema: every field described, defaulted, bounded, `additionalProperties: false`. */
  readonly schema: TSchema;
  /** Whether `mode: monitor` makes sense (a policy that only adds headers has nothing to monitor). */
  readonly supportsMonitor: boolean;
  /** Default for infrastructure faults: `closed` for authentication and authorization. */
  readonly defaultFailureMode: FailureMode;
  /**
   * Optional checks the schema cannot express (a rule that does not compile), run once at load on
   * the validated config; each problem carries its path inside the config, so the loader reports
   * the file, line and field. `create` must still refuse what this refuses.
   */
  readonly check?: (config: Config) => readonly ConfigProblem[];
  /** Called once per route at load with validated, defaulted, frozen config. Compile everything here. */
  create(config: Config, deps: PolicyDeps): PolicyInstance;
}

/** A descriptor with its config type erased, as the registry holds them. */
export type AnyPolicyDescriptor = PolicyDescriptor<any>;

export function definePolicy<Config>(descriptor: PolicyDescriptor<Config>): PolicyDescriptor<Config> {
  return Object.freeze(descriptor);
}

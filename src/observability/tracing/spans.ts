import type { RequestContext } from '../../core/context.js';
import type { Phase } from '../../core/phases.js';

/**
 * The spans of one sampled request, when tracing is enabled (the OpenTelemetry side lives in
 * otel.ts, loaded only then). Unsampled requests and gateways without tracing have none
 * (`ctx.spans` is undefined), so every call site costs one property check.
 */
export interface RequestSpans {
  /** The matched path template (`/users/{id}`): `http.route` and the server span's name. */
  route(template: string): void;
  /** A request-phase policy is about to run: ends the previous phase's span when the phase changed. */
  step(phase: Phase, policy: string): void;
  /** The request phases are over (forward, a local reply or a denial comes next). */
  endPhases(ctx: RequestContext): void;
  /** A phase that ran in one go (response hooks, log hooks), with its start and end (performance.now()). */
  phase(name: string, policies: readonly string[], startedAt: number, endedAt: number): void;
  /** Starts the CLIENT span of one upstream attempt; returns the `traceparent` value that names it. */
  startClient(ctx: RequestContext, origin: string, path: string, attempt: number): string;
  /** Ends the current upstream attempt's span with its status, or the failure's code. */
  endClient(status: number, error: string | undefined): void;
  /** Ends the SERVER span once the response closed. */
  end(ctx: RequestContext): void;
}

/** Starts the spans of a sampled request: one per request, built once per process when enabled. */
export interface SpanFactory {
  /** `parentId` set: the trace continues a caller's span. `link`: a caller's context we did not continue. */
  start(ctx: RequestContext, parentId: string | undefined, link: { traceId: string; spanId: string } | undefined): RequestSpans;
  /** Exports what is queued and stops the exporter (bounded by its timeout). */
  shutdown(): Promise<void>;
}

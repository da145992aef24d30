import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../errors/index.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { RequestContext } from './context.js';
import type { HeaderList } from './header-list.js';
import type { FailureMode, PolicyInstance, PolicyMode, ResponseBodyRequest } from './policy.js';
import type { Phase } from './phases.js';

/** One policy attached to one route, with its resolved mode and failure mode. */
export interface PipelineStep {
  readonly name: string;
  readonly phase: Phase;
  readonly mode: PolicyMode;
  readonly failureMode: FailureMode;
  readonly instance: PolicyInstance;
}

type Handle = (ctx: RequestContext) => void | Promise<void>;

/** What a fail-closed policy whose `wantsResponseBody` threw is given: the body, bounded, never unread. */
const FAULT_BODY_REQUEST: ResponseBodyRequest = Object.freeze({ maxBytes: 1024 * 1024, overflow: 'block' });

/** The policies that asked for one response's body, and the combined cap (see `wantsResponseBody`). */
export interface ResponseBodyPlan {
  readonly request: ResponseBodyRequest;
  readonly steps: readonly PipelineStep[];
}

/**
 * A route's chain, built once at load and never changed: request steps in phase order, response
 * hooks in reverse, log hooks last. Running it allocates nothing per step on the synchronous path;
 * an asynchronous policy switches the rest of the chain onto promises.
 */
export class Pipeline {
  readonly steps: readonly PipelineStep[];
  private readonly requestSteps: readonly PipelineStep[];
  private readonly handles: readonly Handle[];
  private readonly responseSteps: readonly PipelineStep[];
  private readonly logSteps: readonly PipelineStep[];
  private readonly bodySteps: readonly PipelineStep[];
  /** Policy names of the response and log hooks, for their phase spans (tracing). */
  private readonly responseNames: readonly string[];
  private readonly logNames: readonly string[];

  constructor(
    steps: readonly PipelineStep[],
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.steps = steps;
    this.requestSteps = steps.filter((s) => s.instance.handle !== undefined);
    this.handles = this.requestSteps.map((s) => s.instance.handle!.bind(s.instance));
    this.responseSteps = steps.filter((s) => s.instance.onResponse !== undefined).reverse();
    this.logSteps = steps.filter((s) => s.instance.log !== undefined);
    this.bodySteps = steps.filter((s) => s.instance.wantsResponseBody !== undefined && s.instance.onResponseBody !== undefined).reverse();
    this.responseNames = this.responseSteps.map((s) => s.name);
    this.logNames = this.logSteps.map((s) => s.name);
  }

  /** Runs the request phases. Throws (or rejects with) a GatewayError on an enforced denial. */
  runRequest(ctx: RequestContext): void | Promise<void> {
    return this.runFrom(ctx, 0);
  }

  private runFrom(ctx: RequestContext, start: number): void | Promise<void> {
    const handles = this.handles;
    const spans = ctx.spans;
    for (let i = start; i < handles.length; i++) {
      let result: void | Promise<void>;
      if (spans !== undefined) spans.step(this.requestSteps[i]!.phase, this.requestSteps[i]!.name);
      try {
        result = handles[i]!(ctx);
      } catch (error) {
        this.onStepError(ctx, this.requestSteps[i]!, error);
        continue;
      }
      if (result !== undefined) {
        const next = i + 1;
        const step = this.requestSteps[i]!;
        return result.then(
          () => (this.replied(ctx, step) ? undefined : this.runFrom(ctx, next)),
          (error: unknown) => {
            this.onStepError(ctx, step, error);
            return this.runFrom(ctx, next);
          },
        );
      }
      if (this.replied(ctx, this.requestSteps[i]!)) return;
    }
  }

  /** A policy answered locally (`ctx.respond`): the chain ends and the decision names it. */
  private replied(ctx: RequestContext, step: PipelineStep): boolean {
    if (ctx.reply === undefined) return false;
    ctx.decision.outcome = 'reply';
    ctx.decision.policy = step.name;
    return true;
  }

  /** Denials are rethrown unless the step monitors; faults follow the step's failure mode. */
  private onStepError(ctx: RequestContext, step: PipelineStep, error: unknown): void {
    if (isGatewayError(error)) {
      if (step.mode === 'monitor') {
        ctx.recordMonitorHit({ policy: step.name, code: error.code, reason: error.reason ?? error.detail });
        this.metrics.policyDecision(ctx.route?.name ?? '*', step.name, 'monitor');
        return;
      }
      ctx.decision.outcome = 'deny';
      ctx.decision.policy = step.name;
      ctx.decision.code = error.code;
      ctx.decision.reason = error.reason ?? error.detail;
      this.metrics.policyDecision(ctx.route?.name ?? '*', step.name, 'deny');
      throw error;
    }
    this.metrics.policyFault(step.name);
    this.logger.error(
      { err: error, policy: step.name, request_id: ctx.requestId, failure_mode: step.failureMode },
      'policy fault',
    );
    if (step.failureMode === 'open') {
      const degraded = step.instance.failOpen;
      if (degraded === undefined) return;
      try {
        degraded.call(step.instance, ctx, error);
      } catch (denial) {
        // A denial from the degraded decision is a denial like any other; anything else is ignored (open).
        if (isGatewayError(denial)) this.onStepError(ctx, step, denial);
        else this.logger.error({ err: denial, policy: step.name, request_id: ctx.requestId }, 'failOpen hook fault');
      }
      return;
    }
    ctx.decision.outcome = 'error';
    ctx.decision.policy = step.name;
    ctx.decision.code = 'GW_POLICY_UNAVAILABLE';
    ctx.decision.reason = 'policy fault with failureMode closed';
    throw new GatewayError('GW_POLICY_UNAVAILABLE', { reason: `policy ${step.name} failed`, cause: error });
  }

  /** Lets each policy edit the response head, last attached first. A throwing hook is logged and skipped. */
  runResponse(ctx: RequestContext, head: HeaderList, status: number): void {
    const steps = this.responseSteps;
    const startedAt = ctx.spans === undefined || steps.length === 0 ? 0 : performance.now();
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      try {
        step.instance.onResponse!(ctx, head, status);
      } catch (error) {
        this.metrics.policyFault(step.name);
        this.logger.error({ err: error, policy: step.name, request_id: ctx.requestId }, 'response hook fault');
      }
    }
    if (startedAt !== 0) ctx.spans!.phase('onResponse', this.responseNames, startedAt, performance.now());
  }

  /**
   * Which policies want this response's body, or undefined (the common case, no allocation). A
   * throwing `wantsResponseBody` is a fault, logged and counted: with failureMode open that policy
   * sits this body out; with closed it still gets the body (and an overflow blocks), so a broken
   * filter never waves data through unread.
   */
  planResponseBody(ctx: RequestContext, head: HeaderList, status: number): ResponseBodyPlan | undefined {
    const candidates = this.bodySteps;
    if (candidates.length === 0) return undefined;
    let steps: PipelineStep[] | undefined;
    let maxBytes = Infinity;
    let overflow: 'block' | 'pass' = 'pass';
    for (const step of candidates) {
      let wanted: ResponseBodyRequest | undefined;
      try {
        wanted = step.instance.wantsResponseBody!(ctx, head, status);
      } catch (error) {
        this.metrics.policyFault(step.name);
        this.logger.error({ err: error, policy: step.name, request_id: ctx.requestId }, 'response body hook fault');
        if (step.failureMode === 'open') continue;
        wanted = FAULT_BODY_REQUEST;
      }
      if (wanted === undefined) continue;
      (steps ??= []).push(step);
      maxBytes = Math.min(maxBytes, wanted.maxBytes);
      if (wanted.overflow === 'block' && step.mode === 'enforce') overflow = 'block';
    }
    return steps === undefined ? undefined : { request: { maxBytes, overflow }, steps };
  }

  /**
   * Runs the planned body hooks in turn. A denial becomes the response unless the step monitors;
   * a fault skips the step with failureMode open and fails the response (502-class) with closed.
   * Synchronous while every hook returns a Buffer (the waf's and openapi's do): no promise hops
   * between the upstream's last byte and the response. May throw (a denial) instead of rejecting.
   */
  runResponseBody(ctx: RequestContext, plan: ResponseBodyPlan, body: Buffer, head: HeaderList, status: number): Buffer | Promise<Buffer> {
    return this.runResponseBodyFrom(0, ctx, plan, body, head, status);
  }

  /** runResponseBody from step `start` on: where an asynchronous hook's answer picks up. */
  private runResponseBodyFrom(start: number, ctx: RequestContext, plan: ResponseBodyPlan, body: Buffer, head: HeaderList, status: number): Buffer | Promise<Buffer> {
    let current = body;
    for (let i = start; i < plan.steps.length; i++) {
      const step = plan.steps[i]!;
      let result: Buffer | Promise<Buffer>;
      try {
        result = step.instance.onResponseBody!(ctx, current, head, status);
      } catch (error) {
        this.onStepError(ctx, step, error);
        continue;
      }
      if (Buffer.isBuffer(result)) {
        current = result;
        continue;
      }
      const before = current;
      return Promise.resolve(result).then(
        (next) => this.runResponseBodyFrom(i + 1, ctx, plan, next, head, status),
        (error: unknown) => {
          this.onStepError(ctx, step, error);
          return this.runResponseBodyFrom(i + 1, ctx, plan, before, head, status);
        },
      );
    }
    return current;
  }

  runLog(ctx: RequestContext): void {
    const steps = this.logSteps;
    const startedAt = ctx.spans === undefined || steps.length === 0 ? 0 : performance.now();
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      try {
        step.instance.log!(ctx);
      } catch (error) {
        this.logger.error({ err: error, policy: step.name, request_id: ctx.requestId }, 'log hook fault');
      }
    }
    if (startedAt !== 0) ctx.spans!.phase('log', this.logNames, startedAt, performance.now());
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.steps.map((s) => s.instance.close?.()));
  }
}

import type { RequestContext } from '../core/context.js';

export interface SamplingConfig {
  readonly default: number;
  readonly routes: Readonly<Record<string, number>>;
}

/**
 * Which access lines of allowed requests are written, per route. A rate r keeps one line in every
 * round(1/r), counted per route: deterministic (tests and operators can predict it) and free of a
 * random draw per request. Denials, errors and monitor hits are always written, whatever the rate.
 */
export class AccessSampler {
  private readonly every = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  private readonly defaultEvery: number;
  /** True when every line is written anyway: the request path skips the sampler. */
  readonly keepsAll: boolean;

  constructor(config: SamplingConfig) {
    this.defaultEvery = everyFor(config.default);
    for (const [route, rate] of Object.entries(config.routes)) this.every.set(route, everyFor(rate));
    this.keepsAll = this.defaultEvery === 1 && [...this.every.values()].every((e) => e === 1);
  }

  keep(ctx: RequestContext): boolean {
    if (this.keepsAll || ctx.decision.outcome !== 'allow' || ctx.monitorHits !== undefined || ctx.status >= 500) return true;
    const route = ctx.route?.name ?? '*';
    const every = this.every.get(route) ?? this.defaultEvery;
    if (every === 1) return true;
    if (every === 0) return false;
    const n = (this.seen.get(route) ?? 0) + 1;
    this.seen.set(route, n === every ? 0 : n);
    return n === 1;
  }
}

/** 1 keeps all, 0 none, 0.1 one in ten. */
function everyFor(rate: number): number {
  return rate <= 0 ? 0 : Math.max(1, Math.round(1 / rate));
}

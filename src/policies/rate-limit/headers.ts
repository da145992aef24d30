import type { HeaderList } from '../../core/header-list.js';
import type { LimitOutcome } from '../../ratelimit/types.js';
import type { RuleSet } from './compile.js';

/** What a request learned about its limits, kept in `ctx.state` for the response hook. */
export interface LimitState {
  set: RuleSet;
  outcome: LimitOutcome | undefined;
  /** Quota left after this request, and seconds until the period ends; undefined without a quota. */
  quotaRemaining: number | undefined;
  quotaResetS: number;
  quotaName: string;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * draft-ietf-httpapi-ratelimit-headers-11: `RateLimit-Policy` lists the quota policies (section 3),
 * `RateLimit` the service limit left under each (section 4: `r` available quota, `t` seconds of the
 * effective window), both sf-lists of sf-strings with parameters. `pk` is left out: the partition key
 * would echo a client address or consumer id.
 */
export function writeLimitHeaders(head: HeaderList, state: LimitState, standard: boolean, legacy: boolean): void {
  const { set, outcome } = state;
  let tightest = -1;
  let items = '';
  if (outcome !== undefined) {
    for (let i = 0; i < outcome.results.length; i++) {
      const r = outcome.results[i]!;
      if (items !== '') items += ', ';
      // A refused limit: r=0 until the next request would be admitted, so `t` never outlasts Retry-After (section 6).
      items += `"${set.rules[i]!.name}";r=${r.remaining};t=${seconds(r.allowed ? r.resetMs : r.retryAfterMs)}`;
      if (tightest === -1 || r.remaining < outcome.results[tightest]!.remaining) tightest = i;
    }
  }
  if (state.quotaRemaining !== undefined) {
    if (items !== '') items += ', ';
    items += `"${state.quotaName}";r=${state.quotaRemaining};t=${state.quotaResetS}`;
  }
  if (standard && set.policyHeader !== '') {
    head.set('ratelimit-policy', set.policyHeader);
    if (items !== '') head.set('ratelimit', items);
  }
  if (legacy && outcome !== undefined && tightest !== -1) {
    const r = outcome.results[tightest]!;
    head.set('x-ratelimit-limit', String(set.rules[tightest]!.limit));
    head.set('x-ratelimit-remaining', String(r.remaining));
    head.set('x-ratelimit-reset', String(seconds(r.resetMs)));
  }
}

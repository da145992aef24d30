import type { RedisStateStore } from '../state/redis.js';
import { DECIDE_SCRIPT } from './redis-script.js';
import type { LimitCheck, LimiterBackend, LimitOutcome, LimitResult } from './types.js';

/** The `{...}` hash tag of a key built by keys.ts; Redis Cluster hashes only that part. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  return close === -1 ? key : key.slice(open + 1, close);
}

/**
 * Limits shared by every gateway through Redis: one EVALSHA per decision (ioredis sends the script
 * body only once per connection, on NOSCRIPT). Limits keyed alike share a hash tag and go in one
 * script; limits keyed differently (one by IP, one by consumer) live in different Cluster slots, so
 * they go in one script per key, sent together: still one round trip in time, but each is atomic
 * on its own (a request refused by the consumer limit may have used one from the IP limit).
 * Any Redis failure rejects with a StateError (STATE_UNAVAILABLE); the policy applies its failure mode.
 */
export class RedisLimiter implements LimiterBackend {
  readonly kind = 'redis' as const;
  private readonly run: (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

  constructor(state: RedisStateStore) {
    this.run = state.script('portcullisRateLimit', DECIDE_SCRIPT);
  }

  decide(checks: readonly LimitCheck[], now: number): Promise<LimitOutcome> {
    const first = hashTag(checks[0]!.key);
    let single = true;
    for (let i = 1; i < checks.length; i++) if (hashTag(checks[i]!.key) !== first) single = false;
    if (single) return this.decideGroup(checks, now);
    return this.decideGroups(checks, now);
  }

  private async decideGroups(checks: readonly LimitCheck[], now: number): Promise<LimitOutcome> {
    const groups = new Map<string, number[]>();
    checks.forEach((c, i) => {
      const tag = hashTag(c.key);
      const list = groups.get(tag);
      if (list === undefined) groups.set(tag, [i]);
      else list.push(i);
    });
    const indexes = [...groups.values()];
    const outcomes = await Promise.all(indexes.map((list) => this.decideGroup(list.map((i) => checks[i]!), now)));
    const results: LimitResult[] = new Array<LimitResult>(checks.length);
    indexes.forEach((list, g) => list.forEach((i, j) => (results[i] = outcomes[g]!.results[j]!)));
    return { allowed: outcomes.every((o) => o.allowed), results };
  }

  private async decideGroup(checks: readonly LimitCheck[], now: number): Promise<LimitOutcome> {
    const keys: string[] = new Array<string>(checks.length);
    const args: (string | number)[] = [now];
    for (let i = 0; i < checks.length; i++) {
      const { key, rule } = checks[i]!;
      keys[i] = key;
      args.push(rule.algorithm === 'gcra' ? 1 : 2, rule.limit, rule.windowMs, rule.burst);
    }
    const reply = (await this.run(keys, args)) as number[];
    const results: LimitResult[] = new Array<LimitResult>(checks.length);
    for (let i = 0; i < checks.length; i++) {
      const remaining = Number(reply[1 + i * 3]);
      const retryAfterMs = Number(reply[3 + i * 3]);
      results[i] = { allowed: retryAfterMs === 0, remaining, resetMs: Number(reply[2 + i * 3]), retryAfterMs };
    }
    return { allowed: reply[0] === 1, results };
  }
}

import type { RequestContext } from '../../core/context.js';
import type { PolicyInstance } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import type { ConcurrencyLimitConfig } from './schema.js';

const STATE_KEY = 'concurrency-limit';
/** Stored under STATE_KEY by `log`: the request is over, so a `handle` running after it must not take a slot. */
const FINISHED = Symbol('finished');

interface CompiledLimit {
  readonly key: 'route' | 'consumer' | 'ip';
  readonly max: number;
  readonly code: 'GW_CONCURRENCY_LIMIT' | 'GW_CONCURRENCY_SATURATED';
  /** In-flight count per key; an entry is deleted at 0, so the map holds only keys with requests in flight. */
  readonly inflight: Map<string, number>;
}

function keyOf(limit: CompiledLimit, ctx: RequestContext): string {
  if (limit.key === 'route') return '';
  if (limit.key === 'consumer') {
    const principal = ctx.principal;
    const id = principal?.consumerId ?? principal?.subject;
    // Anonymous callers are counted per IP, never in one shared bucket a single client could fill.
    if (id !== undefined) return 'c:' + id;
  }
  return 'ip:' + ctx.clientIp;
}

function describeKey(limit: CompiledLimit, key: string): string {
  return limit.key === 'route' ? 'the route' : key.startsWith('c:') ? `consumer ${JSON.stringify(key.slice(2))}` : `client ${key.slice(3)}`;
}

/**
 * Counts requests in flight in this process. A request takes a slot in every limit in `handle` (all or
 * none) and gives them back in `log`, which the pipeline runs exactly once per request when the
 * response closes: after a normal end, an error, a denial by a later step, or a client abort.
 */
export function createConcurrencyLimitPolicy(config: ConcurrencyLimitConfig): PolicyInstance {
  const limits: CompiledLimit[] = config.limits.map((l) => ({
    key: l.key,
    max: l.max,
    code: (l.status ?? (l.key === 'route' ? 503 : 429)) === 503 ? 'GW_CONCURRENCY_SATURATED' : 'GW_CONCURRENCY_LIMIT',
    inflight: new Map(),
  }));
  const headers = Object.freeze({ 'retry-after': String(config.retryAfter) });

  return {
    handle(ctx) {
      if (ctx.state.has(STATE_KEY)) return; // finished already (client gone while an earlier step waited)
      const keys: string[] = new Array<string>(limits.length);
      for (let i = 0; i < limits.length; i++) {
        const limit = limits[i]!;
        const key = keyOf(limit, ctx);
        const count = limit.inflight.get(key) ?? 0;
        if (count >= limit.max) {
          throw new GatewayError(limit.code, {
            reason: `concurrency-limit: ${describeKey(limit, key)} has ${count} requests in flight (max ${limit.max})`,
            detail: limit.code === 'GW_CONCURRENCY_LIMIT' ? 'Too many requests in flight; wait for one to finish.' : undefined,
            headers,
          });
        }
        keys[i] = key;
      }
      for (let i = 0; i < limits.length; i++) {
        const limit = limits[i]!;
        limit.inflight.set(keys[i]!, (limit.inflight.get(keys[i]!) ?? 0) + 1);
      }
      ctx.state.set(STATE_KEY, keys);
    },

    log(ctx) {
      const keys = ctx.state.get(STATE_KEY);
      ctx.state.set(STATE_KEY, FINISHED);
      if (!Array.isArray(keys)) return;
      for (let i = 0; i < limits.length; i++) {
        const limit = limits[i]!;
        const key = keys[i] as string;
        const count = (limit.inflight.get(key) ?? 1) - 1;
        if (count <= 0) limit.inflight.delete(key);
        else limit.inflight.set(key, count);
      }
    },
  };
}


import { Pool } from 'undici';
import type { RequestContext } from '../../core/context.js';
import { TtlLru } from '../../core/ttl-lru.js';
import { parseDuration } from '../../config/units.js';
import { overrides, splitDotPath, valueAt, type Identity } from './identity.js';
import type { BindingConfig, OwnershipServiceConfig } from './schema.js';

/** A binding compiled at load: where the object id is, and which principal attribute it must equal. */
export interface CompiledBinding {
  readonly name: string;
  readonly source: 'param' | 'query' | 'header' | 'body';
  readonly field: string;
  readonly bodyPath: readonly string[];
  readonly attribute: (identity: Identity) => unknown;
  readonly methods: ReadonlySet<string> | undefined;
  readonly unless: readonly string[];
  readonly denyMissing: boolean;
}

function attributeReader(equals: string): (identity: Identity) => unknown {
  if (equals === 'subject') return (identity) => identity.principal.subject;
  if (equals === 'consumer') return (identity) => identity.principal.consumerId;
  const path = splitDotPath(equals.slice('claims.'.length));
  return (identity) => valueAt(identity.principal.claims, path);
}

export function compileBindings(bindings: readonly BindingConfig[]): readonly CompiledBinding[] {
  return bindings.map((b) =>
    Object.freeze({
      name: b.name,
      source: b.source,
      field: b.source === 'header' ? b.field.toLowerCase() : b.field,
      bodyPath: splitDotPath(b.field),
      attribute: attributeReader(b.equals),
      methods: b.methods === undefined ? undefined : new Set<string>(b.methods),
      unless: b.unlessGroups,
      denyMissing: b.ifMissing === 'deny',
    }),
  );
}

/** True when a binding applies to this request and this identity (no override). */
export function bindingApplies(binding: CompiledBinding, method: string, identity: Identity): boolean {
  return (binding.methods === undefined || binding.methods.has(method)) && !overrides(identity, binding.unless);
}

/** Marks a query parameter sent more than once with different values. */
const AMBIGUOUS = Symbol('ambiguous');

/**
 * The value of a query parameter, form-decoded. Sent twice with different values it is ambiguous:
 * frameworks disagree on which one wins (HTTP parameter pollution), so the gateway must not check
 * the first while the upstream uses the last.
 */
function queryValue(query: string, name: string): string | undefined | typeof AMBIGUOUS {
  if (query === '') return undefined;
  const values = new URLSearchParams(query).getAll(name);
  if (values.length === 0) return undefined;
  return values.every((v) => v === values[0]) ? values[0] : AMBIGUOUS;
}

function bindingValue(binding: CompiledBinding, ctx: RequestContext, body: unknown): unknown | typeof AMBIGUOUS {
  switch (binding.source) {
    case 'param':
      return ctx.params[binding.field];
    case 'query':
      return queryValue(ctx.query, binding.field);
    case 'header':
      return ctx.header(binding.field);
    case 'body':
      return valueAt(body, binding.bodyPath);
  }
}

/**
 * Why the binding refuses, or undefined when it passes. Ids compare as strings or numbers, exactly:
 * a principal attribute that is absent or empty never equals anything (fail closed), and an array
 * or object in the body never equals a scalar id.
 */
export function checkBinding(binding: CompiledBinding, ctx: RequestContext, identity: Identity, body: unknown): string | undefined {
  const value = bindingValue(binding, ctx, body);
  if (value === undefined) return binding.denyMissing ? `binding "${binding.name}": ${binding.source} ${binding.field} missing` : undefined;
  if (value === AMBIGUOUS) return `binding "${binding.name}": query ${binding.field} repeated with different values`;
  const owner = binding.attribute(identity);
  if (owner === undefined || owner === null || owner === '') return `binding "${binding.name}": principal has no value to compare ${binding.field} with`;
  const same = (typeof value === 'string' || typeof value === 'number') && (typeof owner === 'string' || typeof owner === 'number') && String(value) === String(owner);
  return same ? undefined : `binding "${binding.name}": ${binding.source} ${binding.field} does not belong to the principal`;
}

/**
 * Ownership by asking a service (POST JSON, RFC 9110 section 9.3.3): 200 with `{"allowed": true}`
 * allows, any other 2xx/4xx answer denies, anything else (5xx, timeout, unreadable) is a fault the
 * policy's failureMode handles (closed by default: 503). Answers are cached per subject, method
 * and path in a bounded LRU, so a flood of distinct ids cannot grow memory.
 */
export class OwnershipService {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly timeoutMs: number;
  private readonly cache: TtlLru<boolean>;
  readonly methods: ReadonlySet<string> | undefined;
  readonly unless: readonly string[];

  constructor(
    config: OwnershipServiceConfig,
    private readonly routeName: string,
    private readonly now: () => number,
  ) {
    const url = new URL(config.url);
    this.pool = new Pool(url.origin, { connections: 16 });
    this.path = url.pathname + url.search;
    this.timeoutMs = parseDuration(config.timeout);
    this.cache = new TtlLru(config.cacheMaxEntries, parseDuration(config.cacheTtl));
    this.methods = config.methods === undefined ? undefined : new Set<string>(config.methods);
    this.unless = config.unlessGroups;
  }

  applies(method: string, identity: Identity): boolean {
    return (this.methods === undefined || this.methods.has(method)) && !overrides(identity, this.unless);
  }

  /** True when the principal owns the object; rejects on a fault. */
  async owns(ctx: RequestContext, identity: Identity): Promise<boolean> {
    const { subject, consumerId } = identity.principal;
    const key = `${consumerId ?? ''}\u0000${subject ?? ''}\u0000${ctx.method}\u0000${ctx.path}`;
    const cached = this.cache.get(key, this.now());
    if (cached !== undefined) return cached;
    const body = JSON.stringify({ subject: subject ?? null, consumer: consumerId ?? null, method: ctx.method, path: ctx.path, params: ctx.params, route: this.routeName });
    const response = await this.pool.request({
      method: 'POST',
      path: this.path,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (response.statusCode >= 500 || response.statusCode < 200 || (response.statusCode >= 300 && response.statusCode < 400)) {
      await response.body.dump();
      throw new Error(`ownership service answered ${response.statusCode}`);
    }
    let allowed = false;
    if (response.statusCode === 200) {
      const answer = (await response.body.json()) as { allowed?: unknown } | null;
      allowed = answer !== null && typeof answer === 'object' && answer.allowed === true;
    } else {
      await response.body.dump();
    }
    this.cache.set(key, allowed, this.now());
    return allowed;
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.pool.close();
  }
}

import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../core/context.js';
import type { PolicyInstance } from '../../core/policy.js';
import { makeContext, type ContextOptions } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { concurrencyLimitPolicy } from './index.js';

function request(policy: PolicyInstance, options: ContextOptions & { consumer?: string } = {}): RequestContext {
  const ctx = makeContext(options);
  if (options.consumer !== undefined) ctx.principal = { consumerId: options.consumer, method: 'api-key' };
  return ctx;
}

/** Starts a request: runs `handle`, returns its context (to finish it with `log`). */
function start(policy: PolicyInstance, options: ContextOptions & { consumer?: string } = {}): RequestContext {
  const ctx = request(policy, options);
  policy.handle!(ctx);
  return ctx;
}

describe('concurrency-limit schema', () => {
  it('needs at least one limit and refuses unknown keys and statuses', () => {
    expect(() => validatePolicyConfig(concurrencyLimitPolicy, { limits: [] })).toThrow(/limits/);
    expect(() => validatePolicyConfig(concurrencyLimitPolicy, { limits: [{ key: 'header', max: 1 }] })).toThrow(/key/);
    expect(() => validatePolicyConfig(concurrencyLimitPolicy, { limits: [{ key: 'ip', max: 1, status: 500 }] })).toThrow(/status/);
    expect(() => validatePolicyConfig(concurrencyLimitPolicy, { limits: [{ key: 'ip', max: 0 }] })).toThrow(/max/);
  });

  it('defaults Retry-After to 1 second', () => {
    expect(validatePolicyConfig(concurrencyLimitPolicy, { limits: [{ key: 'route', max: 5 }] })).toEqual({ limits: [{ key: 'route', max: 5 }], retryAfter: 1 });
  });
});

describe('concurrency-limit per route', () => {
  it('admits max requests, refuses the next with 503 GW_CONCURRENCY_SATURATED and Retry-After, admits again once one finishes', () => {
    const policy = compilePolicy(concurrencyLimitPolicy, { limits: [{ key: 'route', max: 2 }], retryAfter: 3 });
    const a = start(policy);
    start(policy, { clientIp: '10.0.0.2' });
    const error = catchGatewayError(() => start(policy, { clientIp: '10.0.0.3' }));
    expect(error.code).toBe('GW_CONCURRENCY_SATURATED');
    expect(error.status).toBe(503);
    expect(error.headers).toEqual({ 'retry-after': '3' });
    expect(error.reason).toBe('concurrency-limit: the route has 2 requests in flight (max 2)');
    policy.log!(a);
    expect(() => start(policy, { clientIp: '10.0.0.3' })).not.toThrow();
  });

  it('a refused request holds no slot: finishing it frees nothing that others hold', () => {
    const policy = compilePolicy(concurrencyLimitPolicy, { limits: [{ key: 'route', max: 1 }] });
    start(policy);
    const refused = request(policy);
    catchGatewayError(() => policy.handle!(refused));
    policy.log!(refused);
    expect(catchGatewayError(() => start(policy)).code).toBe('GW_CONCURRENCY_SATURATED');
  });

  it('releases exactly once: logging the same request twice does not free a second slot', () => {
    const policy = compilePolicy(concurrencyLimitPolicy, { limits: [{ key: 'route', max: 1 }] });
    const a = start(policy);
    policy.log!(a);
    start(policy); // b takes the slot a gave back
    policy.log!(a);
    expect(catchGatewayError(() => start(policy)).code).toBe('GW_CONCURRENCY_SATURATED');
  });

  it('takes no slot for a request that already finished (client gone while an earlier async step ran)', () => {
    const policy = compilePolicy(concurrencyLimitPolicy, { limits: [{ key: 'route', max: 1 }] });
    const late = request(policy);
    policy.log!(late);
    policy.handle!(late);
    expect(() => start(policy)).not.toThrow();
  });
});

describe('concurrency-limit per consumer and per IP', () => {
  it('counts each consumer separately and answers 429 GW_CONCURRENCY_LIMIT with a client-safe detail', () => {
    const policy = compilePolicy(concurrencyLimitPolicy, { limits: [{ key: 'consumer', max: 1 }] });
    start(policy, { consumer: 'alice' });
    start(policy, { consumer: 'bob' });
    const error = catchGatewayError(() => start(policy, { consumer: 'alice', clientIp: '10.9.9.9' }));
    expect(error.code).toBe('GW_CONCURRENCY_LIMIT');
    expect(error.status).toBe(429);
    expect(error.detail).toBe('Too many requests in flight; wait for one to finish.');
    expect(error.reason).toContain('consumer "alice"');
  });

  it('counts anonymous requests per client IP, so one anonymous client cannot fill a bucket shared by all', () => {
    const policy = compilePolicy(concurrencyLimitPolicy, { limits: [{ key: 'consumer', max: 1 }] });
    start(policy, { clientIp: '10.0.0.1' });
    expect(() => start(policy, { clientIp: '10.0.0.2' })).not.toThrow();
    expect(catchGatewayError(() => start(policy, { clientIp: '10.0.0.1' })).reason).toContain('client 10.0.0.1');
  });

  it('a consumer whose id looks like an IP key does not share the IP bucket', () => {
    const policy = compilePolicy(concurrencyLimitPolicy, { limits: [{ key: 'consumer', max: 1 }] });
    start(policy, { clientIp: '10.0.0.1' });
    expect(() => start(policy, { consumer: 'ip:10.0.0.1' })).not.toThrow();
  });

  it('takes a slot in every limit or in none: a request refused by the route cap does not use its consumer slot', () => {
    const policy = compilePolicy(concurrencyLimitPolicy, {
      limits: [
        { key: 'consumer', max: 1 },
        { key: 'route', max: 2, status: 429 },
      ],
    });
    const alice = start(policy, { consumer: 'alice' });
    start(policy, { consumer: 'bob' });
    const refused = catchGatewayError(() => start(policy, { consumer: 'carol' }));
    expect(refused.code).toBe('GW_CONCURRENCY_LIMIT'); // the route cap asked for 429
    expect(refused.reason).toContain('the route');
    policy.log!(alice);
    // Had the refused request kept carol's consumer slot, this one would be refused by it.
    expect(() => start(policy, { consumer: 'carol' })).not.toThrow();
  });
});

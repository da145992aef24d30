import { describe, it, expect } from 'vitest';
import { Pipeline } from '../../core/pipeline.js';
import { GatewayMetrics } from '../../observability/metrics.js';
import { silentLogger } from '../../observability/logger.js';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { catchGatewayError, compilePolicy, validatePolicyConfig } from '../../../test/helpers/policy.js';
import { ipRestrictionPolicy } from './index.js';
import { normaliseClientIp } from './policy.js';

const run = (config: object, clientIp: string) => compilePolicy(ipRestrictionPolicy, config).handle!(makeContext({ clientIp }));
const denial = (config: object, clientIp: string) => catchGatewayError(() => run(config, clientIp));

describe('ip-restriction schema', () => {
  it('defaults both lists to empty', () => {
    expect(validatePolicyConfig(ipRestrictionPolicy, {})).toEqual({ allow: [], deny: [] });
  });

  it('refuses unknown fields', () => {
    expect(() => validatePolicyConfig(ipRestrictionPolicy, { allowList: ['10.0.0.0/8'] })).toThrow(/unknown field "allowList"/);
  });
});

describe('ip-restriction create', () => {
  it('throws naming the bad entry when a CIDR is not an address', () => {
    expect(() => compilePolicy(ipRestrictionPolicy, { deny: ['10.0.0.0/8', '10.0.0.300/8'] })).toThrow(/deny\[1\].*"10\.0\.0\.300\/8"/);
  });

  it('throws naming the bad entry when a prefix length is out of range', () => {
    expect(() => compilePolicy(ipRestrictionPolicy, { allow: ['2001:db8::/129'] })).toThrow(/allow\[0\].*"2001:db8::\/129" has an invalid prefix length/);
  });

  it('throws for a prefix written with a sign or spaces', () => {
    expect(() => compilePolicy(ipRestrictionPolicy, { allow: ['10.0.0.0/+8'] })).toThrow(/allow\[0\]/);
  });

  it('returns an instance without a handler when both lists are empty', () => {
    expect(compilePolicy(ipRestrictionPolicy, {}).handle).toBeUndefined();
  });
});

describe('ip-restriction decisions', () => {
  it('denies an IPv4 client inside a denied CIDR with 403 GW_IP_DENIED', () => {
    const error = denial({ deny: ['203.0.113.0/24'] }, '203.0.113.9');
    expect(error.code).toBe('GW_IP_DENIED');
    expect(error.status).toBe(403);
    expect(error.reason).toContain('deny list');
    expect(error.detail).toBeUndefined();
  });

  it('lets an IPv4 client outside the denied CIDR through', () => {
    expect(run({ deny: ['203.0.113.0/24'] }, '203.0.114.1')).toBeUndefined();
  });

  it('denies a single denied address and nothing next to it', () => {
    expect(denial({ deny: ['198.51.100.7'] }, '198.51.100.7').code).toBe('GW_IP_DENIED');
    expect(run({ deny: ['198.51.100.7'] }, '198.51.100.8')).toBeUndefined();
  });

  it('denies a client not in a non-empty allow list', () => {
    const error = denial({ allow: ['10.0.0.0/8'] }, '192.168.1.1');
    expect(error.code).toBe('GW_IP_DENIED');
    expect(error.reason).toContain('not in the allow list');
  });

  it('lets a client in the allow list through', () => {
    expect(run({ allow: ['10.0.0.0/8'] }, '10.20.30.40')).toBeUndefined();
  });

  it('lets deny win over allow for the same client', () => {
    const error = denial({ allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16'] }, '10.1.2.3');
    expect(error.code).toBe('GW_IP_DENIED');
    expect(error.reason).toContain('deny list');
  });

  it('denies an IPv6 client inside a denied IPv6 CIDR', () => {
    expect(denial({ deny: ['2001:db8::/32'] }, '2001:db8:1::5').code).toBe('GW_IP_DENIED');
  });

  it('matches IPv6 written differently from the rule (zero compression, upper case)', () => {
    expect(denial({ deny: ['2001:db8::1'] }, '2001:DB8:0:0:0:0:0:1').code).toBe('GW_IP_DENIED');
  });

  it('denies an IPv6 client when the allow list holds only IPv4 blocks', () => {
    expect(denial({ allow: ['0.0.0.0/0'] }, '2001:db8::1').code).toBe('GW_IP_DENIED');
  });

  it('denies an IPv4-mapped IPv6 client inside a denied IPv4 CIDR', () => {
    expect(denial({ deny: ['10.0.0.0/8'] }, '::ffff:10.0.0.1').code).toBe('GW_IP_DENIED');
  });

  it('denies an IPv4-mapped client written in hex and in upper case', () => {
    expect(denial({ deny: ['10.0.0.0/8'] }, '::ffff:a00:1').code).toBe('GW_IP_DENIED');
    expect(denial({ deny: ['10.0.0.0/8'] }, '::FFFF:10.0.0.1').code).toBe('GW_IP_DENIED');
  });

  it('lets an IPv4-mapped client in an IPv4 allow list through', () => {
    expect(run({ allow: ['10.0.0.0/8'] }, '::ffff:10.9.8.7')).toBeUndefined();
  });

  it('denies an IPv4 client matched by an IPv4-mapped rule', () => {
    expect(denial({ deny: ['::ffff:10.0.0.0/104'] }, '10.0.0.1').code).toBe('GW_IP_DENIED');
  });

  it('denies a link-local client with a zone index inside a denied block', () => {
    expect(denial({ deny: ['fe80::/10'] }, 'fe80::1%eth0').code).toBe('GW_IP_DENIED');
  });

  it('fails closed when the client IP is empty or not an address, even with only a deny list', () => {
    expect(denial({ deny: ['10.0.0.0/8'] }, '').code).toBe('GW_IP_DENIED');
    const error = denial({ allow: ['0.0.0.0/0', '::/0'] }, 'not-an-ip');
    expect(error.code).toBe('GW_IP_DENIED');
    expect(error.reason).toContain('is not an address');
  });
});

describe('normaliseClientIp', () => {
  it('turns an IPv4-mapped address into IPv4 and drops a zone index', () => {
    expect(normaliseClientIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(normaliseClientIp('fe80::1%en0')).toBe('fe80::1');
    expect(normaliseClientIp('2001:db8::1')).toBe('2001:db8::1');
  });
});

describe('ip-restriction in monitor mode', () => {
  it('records a would-be denial and lets the request continue', () => {
    const instance = compilePolicy(ipRestrictionPolicy, { deny: ['10.0.0.0/8'] });
    const pipeline = new Pipeline(
      [{ name: 'ip-restriction', phase: 'onRequest', mode: 'monitor', failureMode: 'closed', instance }],
      silentLogger(),
      new GatewayMetrics({ defaultMetrics: false }),
    );
    const ctx = makeContext({ clientIp: '10.0.0.1' });
    expect(pipeline.runRequest(ctx)).toBeUndefined();
    expect(ctx.monitorHits).toEqual([{ policy: 'ip-restriction', code: 'GW_IP_DENIED', reason: expect.stringContaining('deny list') }]);
    expect(ctx.decision.outcome).toBe('allow');
  });

  it('denies through the pipeline in enforce mode and records the decision', () => {
    const instance = compilePolicy(ipRestrictionPolicy, { deny: ['10.0.0.0/8'] }, makeDeps());
    const pipeline = new Pipeline(
      [{ name: 'ip-restriction', phase: 'onRequest', mode: 'enforce', failureMode: 'closed', instance }],
      silentLogger(),
      new GatewayMetrics({ defaultMetrics: false }),
    );
    const ctx = makeContext({ clientIp: '10.0.0.1' });
    expect(catchGatewayError(() => pipeline.runRequest(ctx)).code).toBe('GW_IP_DENIED');
    expect(ctx.decision).toMatchObject({ outcome: 'deny', policy: 'ip-restriction', code: 'GW_IP_DENIED' });
  });
});

describe('ip-restriction verdict memo', () => {
  it('keeps giving the right verdict for repeat addresses and past the memo bound', () => {
    const policy = compilePolicy(ipRestrictionPolicy, { allow: ['10.0.0.0/8'], deny: ['10.9.0.0/16'] });
    const check = (ip: string) => {
      try {
        policy.handle!(makeContext({ clientIp: ip }));
        return 'ok';
      } catch (error) {
        return (error as { code: string }).code;
      }
    };
    for (let round = 0; round < 2; round++) {
      expect(check('10.1.2.3')).toBe('ok');
      expect(check('10.9.1.1')).toBe('GW_IP_DENIED');
      expect(check('192.0.2.1')).toBe('GW_IP_DENIED');
    }
    // More distinct addresses than the memo holds: verdicts stay correct after it is cleared.
    for (let i = 0; i < 10_050; i++) check(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(check('10.9.1.1')).toBe('GW_IP_DENIED');
    expect(check('10.1.2.3')).toBe('ok');
    expect(check('192.0.2.1')).toBe('GW_IP_DENIED');
  });
});

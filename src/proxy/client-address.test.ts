import { describe, expect, it } from 'vitest';
import { canonicalIp, TrustedProxies } from './client-address.js';

describe('TrustedProxies', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '2001:db8::/32']);

  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(proxies.resolveClient('203.0.113.9', '1.2.3.4')).toBe('203.0.113.9');
  });

  it('takes the first untrusted hop from the right', () => {
    // The client may prepend anything; only the hops our proxies appended are believed.
    expect(proxies.resolveClient('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.1')).toBe('198.51.100.7');
  });

  it('stops at a malformed hop and keeps the last verified address', () => {
    expect(proxies.resolveClient('10.0.0.2', 'garbage, 10.0.0.1')).toBe('10.0.0.1');
    expect(proxies.resolveClient('10.0.0.2', '')).toBe('10.0.0.2');
  });

  it('handles IPv6 and IPv4-mapped addresses', () => {
    expect(proxies.trusts('2001:db8::1')).toBe(true);
    expect(proxies.resolveClient('2001:db8::1', '2001:db8::2, ::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(canonicalIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalIp('::ffff:abc')).toBe('::ffff:abc');
  });

  it('trusts nobody when the list is empty', () => {
    const none = new TrustedProxies([]);
    expect(none.trusts('127.0.0.1')).toBe(false);
    expect(none.resolveClient('127.0.0.1', '1.2.3.4')).toBe('127.0.0.1');
  });
});

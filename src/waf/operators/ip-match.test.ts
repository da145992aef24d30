import { describe, expect, it } from 'vitest';
import { WafEngine } from '../engine/waf-engine.js';

const engine = WafEngine.fromSecLang(`SecRule REMOTE_ADDR "@ipMatch 192.0.2.0/24,2001:db8::1, 198.51.100.9" "id:1,phase:1,deny,status:403"`);
const blocked = (remoteAddr: string) =>
  engine.evaluateRequest({ method: 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [['Host', 'a.test']], body: undefined, remoteAddr }).interruption !== undefined;

describe('@ipMatch', () => {
  it('matches addresses in the subnets and single addresses, IPv4 and IPv6', () => {
    expect(blocked('192.0.2.7')).toBe(true);
    expect(blocked('198.51.100.9')).toBe(true);
    expect(blocked('2001:db8::1')).toBe(true);
  });

  it('refuses addresses outside the list and input that is not an address', () => {
    expect(blocked('192.0.3.1')).toBe(false);
    expect(blocked('198.51.100.10')).toBe(false);
    expect(blocked('2001:db8::2')).toBe(false);
    expect(blocked('192.0.2.7.evil')).toBe(false);
    expect(blocked('')).toBe(false);
  });

  it('answers each request for its own address when the same and different addresses alternate (the last answer is memoised)', () => {
    const sequence = ['192.0.2.7', '192.0.2.7', '203.0.113.5', '203.0.113.5', '192.0.2.200', '10.0.0.1', '192.0.2.7'];
    expect(sequence.map(blocked)).toEqual([true, true, false, false, true, false, true]);
  });
});

import { BlockList, isIP, isIPv4 } from 'node:net';
import { addCidr } from '../../config/semantics.js';
import { GatewayError } from '../../errors/index.js';
import type { PolicyInstance } from '../../core/policy.js';
import type { IpRestrictionConfig } from './schema.js';

const MAPPED_PREFIX = '::ffff:';

/**
 * The address as the lists should see it. An IPv4 client reaching a dual-stack socket appears as
 * the IPv4-mapped IPv6 address `::ffff:a.b.c.d` (RFC 4291 section 2.5.5.2); it is the same host
 * as `a.b.c.d`, so an IPv4 rule must match it. A zone index (`fe80::1%eth0`, RFC 6874) names the
 * local interface, not the host, and is dropped.
 */
export function normaliseClientIp(ip: string): string {
  const zone = ip.indexOf('%');
  const address = zone === -1 ? ip : ip.slice(0, zone);
  if (address.length > MAPPED_PREFIX.length && address.slice(0, MAPPED_PREFIX.length).toLowerCase() === MAPPED_PREFIX) {
    const tail = address.slice(MAPPED_PREFIX.length);
    if (isIPv4(tail)) return tail;
  }
  return address;
}

/**
 * Compiles one list at load; the message names the offending entry so the loader can locate it.
 * Rules written as IPv4-mapped IPv6 (`::ffff:10.0.0.0/104`) need no rewriting: BlockList matches
 * them against IPv4 clients itself.
 */
function compileList(field: 'allow' | 'deny', entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  entries.forEach((entry, i) => {
    try {
      addCidr(list, entry);
    } catch (error) {
      throw new Error(`ip-restriction: ${field}[${i}]: ${(error as Error).message}`, { cause: error });
    }
  });
  return list;
}

function family(ip: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(ip);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

export function createIpRestrictionPolicy(config: IpRestrictionConfig): PolicyInstance {
  const allow = compileList('allow', config.allow);
  const deny = compileList('deny', config.deny);
  if (allow === undefined && deny === undefined) return {};

  /**
   * Per-address verdicts, memoised: net.BlockList.check builds a SocketAddress on every call (a few
   * microseconds), while a gateway sees the same client addresses again and again. The lists never
   * change for this instance, so a verdict never goes stale; the map is bounded and simply cleared
   * when full (an address flood costs the BlockList price, never unbounded memory).
   */
  const verdicts = new Map<string, 'deny' | 'not-allowed' | 'ok'>();
  const MAX_VERDICTS = 10_000;
  function verdict(ip: string, type: 'ipv4' | 'ipv6'): 'deny' | 'not-allowed' | 'ok' {
    let result = verdicts.get(ip);
    if (result === undefined) {
      result = deny !== undefined && deny.check(ip, type) ? 'deny' : allow !== undefined && !allow.check(ip, type) ? 'not-allowed' : 'ok';
      if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
      verdicts.set(ip, result);
    }
    return result;
  }

  return {
    handle(ctx) {
      const ip = normaliseClientIp(ctx.clientIp);
      const type = family(ip);
      // An address we cannot read cannot be shown to be allowed, nor shown not to be denied: fail closed.
      if (type === undefined) {
        const shown = JSON.stringify(ctx.clientIp.slice(0, 64));
        throw new GatewayError('GW_IP_DENIED', { reason: `ip-restriction: client IP ${shown} is not an address` });
      }
      const result = verdict(ip, type);
      if (result === 'deny') throw new GatewayError('GW_IP_DENIED', { reason: `ip-restriction: ${ip} is in the deny list` });
      if (result === 'not-allowed') throw new GatewayError('GW_IP_DENIED', { reason: `ip-restriction: ${ip} is not in the allow list` });
    },
  };
}

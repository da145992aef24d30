import { BlockList, isIP, isIPv4 } from 'node:net';
import { addCidr } from '../config/semantics.js';

/** `::ffff:10.0.0.1` -> `10.0.0.1`, so one IPv4 rule covers both socket families. */
export function canonicalIp(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function ipFamily(address: string): 'ipv4' | 'ipv6' {
  return isIPv4(address) ? 'ipv4' : 'ipv6';
}

/**
 * The peers whose forwarding headers we believe. Everyone else's X-Forwarded-For, Forwarded and
 * request id are dropped: a client cannot choose the IP that allow lists and rate limits see.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) addCidr(this.list, cidr);
    this.empty = cidrs.length === 0;
  }

  trusts(address: string): boolean {
    if (this.empty || address === '') return false;
    return this.list.check(address, ipFamily(address));
  }

  /**
   * The client address: walk X-Forwarded-For from the right, skipping trusted hops; the first
   * untrusted address is the client (RFC 7239 section 5.2 reasoning applied to the de facto header).
   * A malformed entry ends the walk at the last hop we could verify.
   */
  resolveClient(peer: string, forwardedFor: string | undefined): string {
    if (forwardedFor === undefined || !this.trusts(peer)) return peer;
    const hops = forwardedFor.split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = canonicalIp(hops[i]!.trim());
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}


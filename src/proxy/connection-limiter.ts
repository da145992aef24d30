import type { Socket } from 'node:net';
import { canonicalIp } from './client-address.js';

/**
 * Concurrent connections per client IP, counted over every listener of this process at accept time
 * (`server.limits.maxConnectionsPerIp`). The key is the TCP peer: a connection has no other identity
 * before its first request, and a header could be forged. Trusted proxies carry many clients on
 * their connections and are not limited. Hand-written because it is a map and two event handlers;
 * no library does this at the `connection` event.
 */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();

  constructor(
    /** 0 for no limit; the gateway updates it on reload. */
    public max: number,
    /** Peers exempt from the limit (the current snapshot's trusted proxies). */
    public exempt: (address: string) => boolean = () => false,
  ) {}

  /** Counts the connection and arranges its release on close; false (and nothing counted) when over the cap. */
  admit(socket: Socket): boolean {
    if (this.max === 0) return true;
    const address = socket.remoteAddress;
    // A socket with no peer address is already gone.
    if (address === undefined) return false;
    const key = canonicalIp(address);
    if (this.exempt(key)) return true;
    const count = this.open.get(key) ?? 0;
    if (count >= this.max) return false;
    this.open.set(key, count + 1);
    socket.once('close', () => this.release(key));
    return true;
  }

  /** Connections `address` holds now (for tests and diagnostics). */
  count(address: string): number {
    return this.open.get(canonicalIp(address)) ?? 0;
  }

  private release(key: string): void {
    const count = (this.open.get(key) ?? 1) - 1;
    if (count <= 0) this.open.delete(key);
    else this.open.set(key, count);
  }
}

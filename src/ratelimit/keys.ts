import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { RequestContext } from '../core/context.js';
import { normaliseClientIp } from '../policies/ip-restriction/policy.js';

/**
 * What a limit counts by: `ip`, `consumer`, `credential`, `route`, `header:<name>`, `claim:<name>`,
 * or several of them together. Compiled at load into one function per limit.
 */
export const KEY_PART_PATTERN = '^(ip|consumer|credential|route|header:[A-Za-z0-9!#$%&\'*+.^_`|~-]{1,64}|claim:[A-Za-z0-9_.:-]{1,64})$';

/** Identities longer than this are hashed: header values are the client's to choose. */
const MAX_IDENTITY = 200;

export interface KeyOptions {
  /** IPv6 clients are counted per prefix of this length: one host owns a whole /64, so a per-address limit would be trivially evaded. */
  readonly ipv6Prefix: number;
  /** Used for `route` when the context has no route (the not-found chain). */
  readonly routeName: string;
}

type PartReader = (ctx: RequestContext) => string;

/** The IPv6 address's first `bits` bits, written out in full (so every spelling of one prefix agrees). */
export function ipv6PrefixOf(address: string, bits: number): string {
  const [head = '', tail] = address.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const words = groups.map((g) => parseInt(g, 16) || 0);
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out.push(((words[i] ?? 0) & mask).toString(16));
  }
  return `${out.join(':')}/${bits}`;
}

function computeClientKey(raw: string, ipv6Prefix: number): string {
  const ip = normaliseClientIp(raw);
  // An IPv4-in-IPv6 form (::1.2.3.4) is left whole; normaliseClientIp already mapped ::ffff:a.b.c.d.
  return isIPv6(ip) && !ip.includes('.') && ipv6Prefix < 128 ? ipv6PrefixOf(ip.toLowerCase(), ipv6Prefix) : ip;
}

/**
 * The client's counting address, memoised: a gateway sees the same addresses again and again, and
 * parsing one costs more than the rest of a decision. Bounded, cleared when full (as ip-restriction's).
 */
const clientKeys = new Map<string, string>();
const MAX_CLIENT_KEYS = 10_000;

export function clientKey(ctx: RequestContext, ipv6Prefix: number): string {
  const memo = ipv6Prefix + '|' + ctx.clientIp;
  let key = clientKeys.get(memo);
  if (key === undefined) {
    key = computeClientKey(ctx.clientIp, ipv6Prefix);
    if (clientKeys.size >= MAX_CLIENT_KEYS) clientKeys.clear();
    clientKeys.set(memo, key);
  }
  return key;
}

function partReader(part: string, options: KeyOptions): PartReader {
  const ip: PartReader = (ctx) => 'ip=' + clientKey(ctx, options.ipv6Prefix);
  switch (part) {
    case 'ip':
      return ip;
    case 'route':
      return (ctx) => 'route=' + (ctx.route?.name ?? options.routeName);
    // Without an identity (anonymous access allowed) the client address stands in: an anonymous
    // caller must not share one bucket with every other anonymous caller, nor escape the limit.
    case 'consumer':
      return (ctx) => {
        const id = ctx.principal?.consumerId ?? ctx.principal?.subject;
        return id === undefined ? ip(ctx) : 'consumer=' + id;
      };
    case 'credential':
      return (ctx) => {
        const id = ctx.principal?.claims?.['credentialId'];
        return typeof id === 'string' ? 'credential=' + id : ip(ctx);
      };
  }
  if (part.startsWith('header:')) {
    const name = part.slice(7).toLowerCase();
    return (ctx) => 'h=' + (ctx.header(name) ?? '');
  }
  const claim = part.slice(6);
  return (ctx) => {
    const value = ctx.principal?.claims?.[claim];
    return 'c=' + (value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value));
  };
}

/**
 * Builds `rl:{<scope>|<parts>}:<limit>`. Each part is length-prefixed, so no choice of header values
 * can make two different combinations read the same (`a|b`+`c` against `a`+`b|c`). The braces are a
 * Redis Cluster hash tag: every limit of a request with the same key parts lands in one slot, so one
 * script decides them together.
 */
export function compileKey(scope: string, parts: readonly string[], options: KeyOptions): (ctx: RequestContext) => string {
  const readers = parts.map((p) => partReader(p, options));
  return (ctx) => {
    let identity = scope;
    for (let i = 0; i < readers.length; i++) {
      const value = readers[i]!(ctx);
      identity += '|' + value.length + ':' + value;
    }
    if (identity.length > MAX_IDENTITY || identity.includes('}')) identity = scope + '#' + createHash('sha256').update(identity).digest('base64url');
    return identity;
  };
}

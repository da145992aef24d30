import { randomFillSync } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), parsed by hand: `traceparent` is a
 * fixed-format header, and this runs on every request whether tracing is on or not.
 */

/** A valid incoming `traceparent`, reduced to what the gateway uses. */
export interface IncomingTraceparent {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** The caller's span id: 16 lower-case hex digits, not all zero. */
  readonly parentId: string;
  /** trace-flags as a number (bit 0: sampled, bit 1: random trace id, level 2). */
  readonly flags: number;
}

const SAMPLED = 0x01;
export const RANDOM_TRACE_ID = 0x02;

/** Value of a lower-case hex digit, -1 for anything else (upper case is invalid: section 3.2.2). */
function hex(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** True when `value[from, to)` is lower-case hex and not all zeros. */
function nonZeroHex(value: string, from: number, to: number): boolean {
  let any = 0;
  for (let i = from; i < to; i++) {
    const digit = hex(value.charCodeAt(i));
    if (digit < 0) return false;
    any |= digit;
  }
  return any !== 0;
}

/**
 * `version-traceid-parentid-flags`. Invalid (undefined): wrong length or separators, upper-case
 * or non-hex digits, all-zero ids, version `ff`, anything after the flags in version 00. A later
 * version is read as 00 when it is at least as long and the next character is `-` (section
 * 3.2.4: parse what you know of a higher version). Repeated headers arrive comma-joined from Node,
 * so they are too long and invalid, as the spec asks.
 */
export function parseTraceparent(value: string): IncomingTraceparent | undefined {
  const length = value.length;
  if (length < 55) return undefined;
  const v1 = hex(value.charCodeAt(0));
  const v2 = hex(value.charCodeAt(1));
  if (v1 < 0 || v2 < 0 || (v1 === 15 && v2 === 15)) return undefined;
  if (v1 === 0 && v2 === 0 ? length !== 55 : length > 55 && value.charCodeAt(55) !== 45) return undefined;
  if (value.charCodeAt(2) !== 45 || value.charCodeAt(35) !== 45 || value.charCodeAt(52) !== 45) return undefined;
  if (!nonZeroHex(value, 3, 35) || !nonZeroHex(value, 36, 52)) return undefined;
  const f1 = hex(value.charCodeAt(53));
  const f2 = hex(value.charCodeAt(54));
  if (f1 < 0 || f2 < 0) return undefined;
  return { traceId: value.slice(3, 35), parentId: value.slice(36, 52), flags: (f1 << 4) | f2 };
}

export const MAX_TRACESTATE_LENGTH = 512;
export const MAX_TRACESTATE_MEMBERS = 32;
/** key: simple-key or tenant@system (section 3.3.1.3.1). */
const KEY = /^(?:[a-z0-9][a-z0-9_*/-]{0,255}|[a-z0-9][a-z0-9_*/-]{0,240}@[a-z][a-z0-9_*/-]{0,13})$/;
/** value: printable ASCII but `,` and `=`, 1 to 256 characters, no trailing space (section 3.3.1.3.2). */
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * The `tracestate` to pass on, or undefined to drop it: at most 512 characters and 32 members,
 * each `key=value` as section 3.3.1 defines, keys unique. Empty members (`a=1,,b=2`) and spaces
 * around members are allowed and removed. Anything else drops the whole header: it is opaque
 * vendor data we cannot repair. A list that needs no clean-up is passed on as the same string.
 */
export function acceptTracestate(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const joined = typeof value === 'string' ? value : value.join(',');
  if (joined.length === 0 || joined.length > MAX_TRACESTATE_LENGTH) return undefined;
  const members = joined.split(',');
  const keys: string[] = [];
  const kept: string[] = [];
  let changed = false;
  for (const raw of members) {
    const member = raw.trim();
    if (member.length !== raw.length) changed = true;
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq === -1) return undefined;
    const key = member.slice(0, eq);
    // Keys are unique; at most 32 of them, so a linear look is cheaper than a Set.
    if (!KEY.test(key) || !VALUE.test(member.slice(eq + 1)) || keys.includes(key)) return undefined;
    keys.push(key);
    kept.push(member);
  }
  if (kept.length === 0 || kept.length > MAX_TRACESTATE_MEMBERS) return undefined;
  return changed || kept.length !== members.length ? kept.join(',') : joined;
}

/**
 * Random ids from a pooled buffer: one `randomFillSync` per 256 span ids instead of one per id
 * (crypto calls cost ~1 us each; a slice of the pool costs ~0.1 us). Ids are from the CSPRNG, so
 * a client cannot predict the gateway's span ids or the trace ids it starts.
 */
const POOL = Buffer.allocUnsafe(4096);
let offset = POOL.length;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL.length) {
      randomFillSync(POOL);
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    // All zeros is an invalid id (sections 3.2.2.3 and 3.2.2.4): draw again (p = 2^-64 at most).
    for (let i = start; i < start + bytes; i++) if (POOL[i] !== 0) return POOL.toString('hex', start, start + bytes);
  }
}

export function newTraceId(): string {
  return randomHex(16);
}

export function newSpanId(): string {
  return randomHex(8);
}

const FLAG_TEXT = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `00-<trace-id>-<span-id>-<flags>`: the version this gateway speaks, whatever version came in. */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${FLAG_TEXT[flags & 0xff]}`;
}

export function isSampled(flags: number): boolean {
  return (flags & SAMPLED) !== 0;
}

/** The flags sent upstream: our sampling decision, and the random-id bit when it holds. */
export function outgoingFlags(sampled: boolean, randomTraceId: boolean): number {
  return (sampled ? SAMPLED : 0) | (randomTraceId ? RANDOM_TRACE_ID : 0);
}

/**
 * Path normalisation, done once per request: the result is what routing, every policy and the
 * upstream see, so no route can be reached by spelling its path differently (RFC 3986 section 6.2.2).
 *
 * - percent-encoding is validated, its hex upper-cased, and unreserved characters decoded
 *   (`%7E` -> `~`, `%2e` -> `.`), so `/%61dmin` is `/admin`;
 * - dot segments are removed after that decoding (section 5.2.4), never climbing above `/`;
 * - `%2F` is rejected, kept or decoded per `encodedSlashes`; `%00` and a raw `\` are always refused
 *   (a backslash is a separator to some upstreams, a literal to others);
 * - repeated slashes are merged when `mergeSlashes` is on.
 *
 * Written by hand: no maintained library does this with the choice of rules a gateway needs, and
 * the fast path (nothing to change) must cost one regex test.
 */
export type EncodedSlashes = 'reject' | 'keep' | 'decode';

export interface NormalizeOptions {
  readonly mergeSlashes: boolean;
  readonly encodedSlashes: EncodedSlashes;
}

export type NormalizeResult = { ok: true; path: string } | { ok: false; reason: string };

const NEEDS_WORK = /[%.\\]|\/\//;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;
/** pchar plus "/" (RFC 3986 section 3.3), after percent-encoding is handled. */
const ALLOWED_RAW = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

export function normalizePath(raw: string, options: NormalizeOptions): NormalizeResult {
  if (raw.length === 0 || raw.charCodeAt(0) !== 47 /* / */) return { ok: false, reason: 'path must start with /' };
  if (!NEEDS_WORK.test(raw)) return ALLOWED_RAW.test(raw) ? { ok: true, path: raw } : { ok: false, reason: 'invalid character in path' };
  if (raw.includes('\\')) return { ok: false, reason: 'backslash in path' };
  if (!ALLOWED_RAW.test(raw)) return { ok: false, reason: 'invalid character in path' };

  // 1. Percent-encoding: validate, canonicalise, decode unreserved.
  let decoded = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch !== '%') {
      decoded += ch;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return { ok: false, reason: 'invalid percent-encoding' };
    i += 2;
    const code = parseInt(hex, 16);
    if (code === 0) return { ok: false, reason: 'encoded NUL in path' };
    const char = String.fromCharCode(code);
    if (code === 0x2f) {
      if (options.encodedSlashes === 'reject') return { ok: false, reason: 'encoded slash in path' };
      decoded += options.encodedSlashes === 'decode' ? '/' : '%2F';
    } else if (code === 0x5c) {
      return { ok: false, reason: 'encoded backslash in path' };
    } else if (code < 0x80 && UNRESERVED.test(char)) {
      decoded += char;
    } else {
      decoded += '%' + hex.toUpperCase();
    }
  }

  // 2. Segments: merge slashes, drop ".", pop on "..".
  const segments = decoded.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const segment = segments[i]!;
    if (segment === '.') {
      if (i === last) out.push('');
    } else if (segment === '..') {
      out.pop();
      if (i === last) out.push('');
    } else if (segment === '' && options.mergeSlashes && i !== last) {
      continue;
    } else {
      out.push(segment);
    }
  }
  let path = '/' + out.join('/');
  if (options.mergeSlashes) path = path.replace(/\/{2,}/g, '/');
  return { ok: true, path };
}

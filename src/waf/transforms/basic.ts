import { createHash } from 'node:crypto';

/*
 * Transformations on "binary strings": every engine value is a latin1 string whose char codes are
 * the request's bytes, so these reproduce ModSecurity's byte-oriented C implementations.
 */

/** ModSecurity's isspace() plus NBSP (0xa0), as its whitespace transformations treat it. */
export function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0;
}

/**
 * ASCII only, as C tolower() in the "C" locale. Below U+00C0 only A-Z have a lower case, so there
 * the native toLowerCase (one flat string, no callback per run) does the same.
 */
export function lowercase(s: string): string {
  if (!/[A-Z]/.test(s)) return s;
  return /[^\0-\xbf]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s.toLowerCase();
}

// cmdLine appends runs of unchanged chars as slices: appending one char at a time built a string
// per char.

export function compressWhitespace(s: string): string {
  // Fast paths return the input itself: the engine then knows the value did not change.
  if (!/[\t-\r\xa0]| {2}/.test(s)) return s;
  let out = '';
  let inSpace = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      if (!inSpace) out += ' ';
      inSpace = true;
    } else {
      out += s[i];
      inSpace = false;
    }
  }
  return out;
}

export function removeWhitespace(s: string): string {
  // The native replace builds one flat string (slices appended in a loop made a rope the regexes
  // then had to flatten: a 4 KB JSON body's biggest source of garbage).
  return /[\t-\r \xa0]/.test(s) ? s.replace(/[\t-\r \xa0]+/g, '') : s;
}

export function removeNulls(s: string): string {
  return s.includes('\0') ? s.replace(/\0/g, '') : s;
}

/** C-style comments become one space; an unterminated comment runs to the end (ModSecurity replaceComments). */
export function replaceComments(s: string): string {
  if (!s.includes('/*')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      out += ' ';
      if (end === -1) return out;
      i = end + 2;
      continue;
    }
    out += s[i++];
  }
  return out;
}

/** Removes the comment characters themselves: `/*`, `*\/`, `--`, `#`. */
export function removeCommentsChar(s: string): string {
  return s.replace(/\/\*|\*\/|--|#/g, '');
}

/** Chars cmdLine acts on (all ASCII); every other char is copied as it is and ends a run of spaces. */
const CMDLINE_SPECIAL = new Uint8Array(128);
for (const ch of '\\"\'^,; \t\r\n/(ABCDEFGHIJKLMNOPQRSTUVWXYZ') CMDLINE_SPECIAL[ch.charCodeAt(0)] = 1;

/**
 * True when cmdLine would return `s` as it is: no char it drops, respaces or lower-cases, and every
 * space single and followed by neither `/` nor `(`. Ordinary text (`item number 12`, `a short
 * description`) is such: cmdLine rebuilt it a slice at a time, a string per word (~15 KB of a 4 KB
 * JSON body's garbage).
 */
function cmdLineKeeps(s: string): boolean {
  let afterSpace = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || CMDLINE_SPECIAL[c] === 0) {
      afterSpace = false;
      continue;
    }
    // 0x20 space, 0x2f `/`, 0x28 `(`: every other special char is changed wherever it is.
    if (c === 0x20 ? afterSpace : !((c === 0x2f || c === 0x28) && !afterSpace)) return false;
    afterSpace = c === 0x20;
  }
  return true;
}

/** Drops `\ " ' ^`, spaces before `/` and `(`, turns `,` `;` and whitespace into one space, lower-cases. */
export function cmdLine(s: string): string {
  if (cmdLineKeeps(s)) return s;
  let out = '';
  let space = false;
  let plain = 0; // start of the pending run of chars copied as they are
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || CMDLINE_SPECIAL[c] === 0) continue;
    if (i > plain) {
      out += s.slice(plain, i);
      space = false;
    }
    plain = i + 1;
    const ch = s[i]!;
    if (ch === '\\' || ch === '"' || ch === "'" || ch === '^') continue;
    if (ch === ',' || ch === ';' || ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      if (!space) out += ' ';
      space = true;
      continue;
    }
    if ((ch === '/' || ch === '(') && space) out = out.slice(0, -1);
    space = false;
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : ch;
  }
  return out + s.slice(plain);
}

export function trim(s: string): string {
  return s.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, '');
}

export function length(s: string): string {
  return String(s.length);
}

export function sha1(s: string): string {
  return createHash('sha1').update(s, 'latin1').digest().toString('latin1');
}

export function md5(s: string): string {
  return createHash('md5').update(s, 'latin1').digest().toString('latin1');
}

export function hexEncode(s: string): string {
  return Buffer.from(s, 'latin1').toString('hex');
}

export function hexDecode(s: string): string {
  let out = '';
  for (let i = 0; i + 1 < s.length; i += 2) {
    const v = parseInt(s.slice(i, i + 2), 16);
    out += Number.isNaN(v) ? '' : String.fromCharCode(v);
  }
  return out;
}

const B64 = new Int8Array(128).fill(-1);
for (const [k, ch] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) B64[ch.charCodeAt(0)] = k;

/**
 * Decodes until the first character outside the base64 alphabet, as ModSecurity's base64Decode.
 * Short values (most of them) are decoded here: Buffer's round trip costs more than the decoding.
 * Same result as Buffer: 4 chars give 3 bytes, a tail of 2 or 3 chars 1 or 2, a lone char none.
 */
export function base64Decode(s: string): string {
  return base64DecodeAtLeast(s, 0);
}

/** base64Decode, but `''` when the result would be shorter than `floor` bytes (transforms/index.ts gatedTransform). */
export function base64DecodeAtLeast(s: string, floor: number): string {
  let n = 0;
  while (n < s.length) {
    const c = s.charCodeAt(n);
    if (c >= 128 || B64[c]! < 0) break;
    n++;
  }
  // 4 chars give 3 bytes, a tail of 2 or 3 chars 1 or 2.
  if (((n >> 2) * 3 + ((n & 3) > 1 ? (n & 3) - 1 : 0)) < floor) return '';
  if (n > 256) return Buffer.from(s.slice(0, n), 'base64').toString('latin1');
  const slot = n & 31;
  const earlier = base64Inputs[slot]!;
  if (earlier.length >= n && samePrefix(s, earlier, n) && base64Lengths[slot] === n) return base64Outputs[slot]!;
  // A group of 4 chars gives 3 bytes: one string per group, not one per byte.
  let out = '';
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = (B64[s.charCodeAt(i)]! << 18) | (B64[s.charCodeAt(i + 1)]! << 12) | (B64[s.charCodeAt(i + 2)]! << 6) | B64[s.charCodeAt(i + 3)]!;
    out += String.fromCharCode(v >> 16, (v >> 8) & 0xff, v & 0xff);
  }
  const tail = n - i;
  if (tail >= 2) {
    const v = (B64[s.charCodeAt(i)]! << 18) | (B64[s.charCodeAt(i + 1)]! << 12) | (tail === 3 ? B64[s.charCodeAt(i + 2)]! << 6 : 0);
    out += tail === 2 ? String.fromCharCode(v >> 16) : String.fromCharCode(v >> 16, (v >> 8) & 0xff);
  }
  base64Inputs[slot] = s;
  base64Lengths[slot] = n;
  base64Outputs[slot] = out;
  return out;
}

/**
 * The last short value decoded, per length of its alphabet prefix (mod 32). The CRS base64-decodes
 * every argument name and value (934100 and others), and a JSON body's repeat their prefix up to
 * the first char outside the alphabet: `json.items.0.id` decodes `json` like the ~230 other names,
 * and every item's `item number N` decodes `item`, with other lengths (`a short description`, `0`)
 * between them. Strings are immutable, so handing out the same result is safe. The engine forgets
 * them when each evaluation call ends (forgetDecodings), as its other per-call memos: no request's
 * values stay in memory after it.
 */
const base64Inputs: string[] = new Array<string>(32).fill('');
const base64Lengths = new Int32Array(32).fill(-1);
const base64Outputs: string[] = new Array<string>(32).fill('');

/** Drops the remembered decodings (engine/evaluation-cache.ts reset). */
export function forgetDecodings(): void {
  base64Inputs.fill('');
  base64Lengths.fill(-1);
  base64Outputs.fill('');
}

/** True when `a` and `b` have the same first `n` chars (both are at least that long). */
function samePrefix(a: string, b: string, n: number): boolean {
  for (let k = 0; k < n; k++) if (a.charCodeAt(k) !== b.charCodeAt(k)) return false;
  return true;
}

/** Like base64Decode but skips invalid characters instead of stopping. */
export function base64DecodeExt(s: string): string {
  return Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ''), 'base64').toString('latin1');
}

export function urlEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === ' ') out += '+';
    else if (/[A-Za-z0-9*\-._]/.test(ch)) out += ch;
    else out += '%' + c.toString(16).padStart(2, '0');
  }
  return out;
}

/*
 * The strings of a JSON body (json.ts): names and values, decoded to the UTF-8 bytes the engine
 * reads (one char per byte), as flat strings of their own.
 */

import { ANY, BYTE_CLASSES, charClasses, HIGH, LONE_DOT } from '../transforms/triggers.js';

export class JsonBodyError extends Error {}

export function failAt(what: string, at: number): never {
  throw new JsonBodyError(`JSON parsing error: ${what} at byte ${at}`);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Where the string readString read last ended: just past its closing quote. */
export let stringEnd = 0;
/** The char classes of the string readString read last (charClasses of its value), read as it was. */
export let stringClasses = 0;

// The body and the position of a string with escapes being read: reads are synchronous and do not nest.
let src = '';
let pos = 0;

/**
 * The string whose opening quote is at `text[at]`, its escapes decoded to UTF-8 bytes, its other
 * bytes as they are; `stringEnd` is set past its closing quote, `stringClasses` to its char classes.
 */
export function readString(text: string, at: number): string {
  const start = at + 1;
  let classes = ANY;
  for (let i = start; ; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      stringEnd = i + 1;
      stringClasses = i === start + 1 && text.charCodeAt(start) === 0x2e ? classes | LONE_DOT : classes;
      return flatSlice(text, start, i);
    }
    if (c === BACKSLASH) {
      src = text;
      pos = i;
      try {
        const value = escapedString(start);
        stringEnd = pos;
        stringClasses = charClasses(value);
        return value;
      } finally {
        src = '';
      }
    }
    // Not `c < 0x20`: past the end, c is NaN.
    if (!(c >= 0x20)) failAt(i < text.length ? 'control character in a string' : 'unterminated string', i);
    // The body's chars are bytes; a caller's wider char counts as charClasses counts it.
    classes |= c < 256 ? BYTE_CLASSES[c]! : HIGH;
  }
}

/**
 * `a + b` as one flat string. `+` makes a string of 13 chars or more a rope (V8's ConsString) that
 * points at its parts, and `json.items.12.name` is a rope of ropes: its first char read flattens
 * it, and every later read of a char goes through the rope to the flat copy. The engine reads each
 * name char by char several times (char classes, the prefilter's scan, the SQLi pre-check,
 * base64Decode): in a loop, a rope name cost ~85 ns a pass and a flat one ~30. `join` writes the
 * chars into one new string.
 */
export function flatConcat(a: string, b: string): string {
  if (a === '') return b;
  // One array for every join, not one per name; emptied after each body (forgetFlatParts).
  PAIR[0] = a;
  PAIR[1] = b;
  return PAIR.join('');
}

const PAIR = ['', ''];

export function forgetFlatParts(): void {
  PAIR[0] = PAIR[1] = '';
}

/**
 * `text.slice(start, end)` as a string of its own. V8 makes a slice of 13 chars or more a view of
 * the body (SlicedString): comparing two such views with `===` leaves the builtin's fast path (the
 * engine compares values ~2,000 times a 4 KB body, walk-equal.ts), and reading their chars costs
 * ~20% more a pass: with views, a 4 KB JSON request cost 320 K instructions more (+7%).
 */
export function flatSlice(text: string, start: number, end: number): string {
  if (end - start < 13) return text.slice(start, end);
  return flatConcat(text.slice(start, start + 1), text.slice(start + 1, end));
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** The rest of a string from its first escape (at `pos`), the plain runs copied whole; `pos` ends past the quote. */
function escapedString(start: number): string {
  const parts = [src.slice(start, pos)];
  for (;;) {
    const c = src.charCodeAt(pos);
    if (c === QUOTE) {
      pos++;
      // One join: `+=` would make the value a rope.
      return parts.join('');
    }
    if (c === BACKSLASH) {
      parts.push(escape());
      continue;
    }
    if (!(c >= 0x20)) failAt(pos < src.length ? 'control character in a string' : 'unterminated string', pos);
    const from = pos;
    while (pos < src.length && src.charCodeAt(pos) !== QUOTE && src.charCodeAt(pos) !== BACKSLASH && src.charCodeAt(pos) >= 0x20) pos++;
    parts.push(src.slice(from, pos));
  }
}

/** The escape at `pos` (a `\`), as the UTF-8 bytes of what it stands for. */
function escape(): string {
  const ch = src[pos + 1];
  const simple = ch === undefined ? undefined : SIMPLE_ESCAPES[ch];
  if (simple !== undefined) {
    pos += 2;
    return simple;
  }
  if (ch !== 'u') failAt('invalid escape', pos);
  let unit = hex4(pos + 2);
  pos += 6;
  // A surrogate pair is one code point; a lone surrogate is U+FFFD, as JSON.parse then UTF-8 gave.
  if (unit >= 0xd800 && unit <= 0xdbff && src.charCodeAt(pos) === BACKSLASH && src[pos + 1] === 'u') {
    const low = hex4(pos + 2);
    if (low >= 0xdc00 && low <= 0xdfff) {
      pos += 6;
      return utf8Bytes(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
    }
  }
  if (unit >= 0xd800 && unit <= 0xdfff) unit = 0xfffd;
  return utf8Bytes(unit);
}

function hex4(at: number): number {
  let v = 0;
  for (let k = at; k < at + 4; k++) {
    const c = src.charCodeAt(k);
    const lower = c | 0x20;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
    if (d < 0) failAt('invalid \\u escape', Math.min(k, src.length));
    v = (v << 4) | d;
  }
  return v;
}

/** A code point as its UTF-8 bytes, one char each. */
function utf8Bytes(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  if (cp < 0x800) return String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  if (cp < 0x10000) return String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  return String.fromCharCode(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
}

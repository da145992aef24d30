import { classesOfBytes } from '../transforms/triggers.js';

/**
 * `@validateByteRange 32-36,38-126`: matches when a byte lies outside every range. `gate`: the char
 * classes a value needs to hold such a byte (Rule.classGate).
 */
export function compileByteRange(param: string): { outside: (input: string) => boolean; gate: number } {
  const allowed = new Uint8Array(256);
  for (const part of param.split(',')) {
    const [lo, hi] = part.trim().split('-').map((n) => Number(n.trim()));
    if (lo === undefined || Number.isNaN(lo)) throw new Error(`@validateByteRange: bad range "${part}"`);
    const top = hi === undefined || Number.isNaN(hi) ? lo : hi;
    for (let b = lo; b <= top && b < 256; b++) allowed[b] = 1;
  }
  const outsideBytes = [...allowed.keys()].filter((b) => allowed[b] === 0);
  const outside = (input: string): boolean => {
    for (let i = 0; i < input.length; i++) if (allowed[input.charCodeAt(i) & 0xff] === 0) return true;
    return false;
  };
  return { outside, gate: classesOfBytes(outsideBytes) };
}

const HEX_DIGIT = /[0-9a-fA-F]/;

/** `@validateUrlEncoding`: matches a `%` not followed by two hex digits. */
export function invalidUrlEncoding(input: string): boolean {
  for (let i = input.indexOf('%'); i !== -1; i = input.indexOf('%', i + 1)) {
    if (i + 2 >= input.length || !HEX_DIGIT.test(input[i + 1]!) || !HEX_DIGIT.test(input[i + 2]!)) return true;
  }
  return false;
}

/** `@validateUtf8Encoding`: matches truncated, invalid, overlong or out-of-range UTF-8 (RFC 3629 section 3). */
export function invalidUtf8(input: string): boolean {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c < 0x80) continue;
    const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > input.length) return true;
    let code = c & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
    for (let k = 1; k < len; k++) {
      const cc = input.charCodeAt(i + k);
      if ((cc & 0xc0) !== 0x80) return true;
      code = (code << 6) | (cc & 0x3f);
    }
    if ((len === 3 && code < 0x800) || (len === 4 && (code < 0x10000 || code > 0x10ffff))) return true;
    i += len - 1;
  }
  return false;
}

/*
 * ModSecurity v3's decoding transformations on binary (latin1) strings. A code point that does
 * not fit a byte keeps its low byte, except full-width ASCII (U+FF01..U+FF5E), which maps to
 * ASCII: ModSecurity does the same when no unicode map is configured.
 */

const HEX = /^[0-9a-fA-F]$/;

function isHex(ch: string | undefined): boolean {
  return ch !== undefined && HEX.test(ch);
}

function wideToByte(code: number): string {
  if (code >= 0xff01 && code <= 0xff5e) return String.fromCharCode(code - 0xfee0);
  return String.fromCharCode(code & 0xff);
}

/** %XX decoding; `+` becomes a space; invalid sequences are kept as they are. */
export function urlDecode(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '%' && isHex(s[i + 1]) && isHex(s[i + 2])) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += ch === '+' ? ' ' : ch;
  }
  return out;
}

/** urlDecode plus IIS-style `%uHHHH`. */
export function urlDecodeUni(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '%') {
      if ((s[i + 1] === 'u' || s[i + 1] === 'U') && isHex(s[i + 2]) && isHex(s[i + 3]) && isHex(s[i + 4]) && isHex(s[i + 5])) {
        out += wideToByte(parseInt(s.slice(i + 2, i + 6), 16));
        i += 5;
        continue;
      }
      if (isHex(s[i + 1]) && isHex(s[i + 2])) {
        out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
        continue;
      }
    }
    out += ch === '+' ? ' ' : ch;
  }
  return out;
}

const NAMED: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', nbsp: '\xa0' };

/** `&#DDD;`, `&#xHH;` and the five names ModSecurity knows; the `;` is optional. */
export function htmlEntityDecode(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#[xX]([0-9a-fA-F]+)|#([0-9]+)|(quot|amp|lt|gt|nbsp));?/gi, (m, hex?: string, dec?: string, name?: string) => {
    if (hex !== undefined) return String.fromCharCode(parseInt(hex.slice(-8), 16) & 0xff);
    if (dec !== undefined) return String.fromCharCode(Number(dec.slice(-10)) & 0xff);
    return NAMED[name!.toLowerCase()] ?? m;
  });
}

const C_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Where the two backslash dialects ModSecurity decodes part ways. */
interface EscapeDialect {
  /** `\uHHHH` is an escape (JavaScript) or not (C). */
  readonly unicode: boolean;
  /** A 3-digit octal over 0o377: JavaScript reads two digits, C keeps the low byte. */
  readonly octalOverflow: 'two-digits' | 'low-byte';
  /** `\` before a character with no meaning: JavaScript drops the backslash, C keeps it. */
  readonly unknown: 'drop-backslash' | 'keep-backslash';
}

const C_QUOTED = new Set(['\\', '?', "'", '"']);

/** One decoder for both dialects, so a fix to the shared escapes lands in both transformations. */
function decodeEscapes(s: string, dialect: EscapeDialect): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\' || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[i + 1]!;
    if (dialect.unicode && (next === 'u' || next === 'U') && isHex(s[i + 2]) && isHex(s[i + 3]) && isHex(s[i + 4]) && isHex(s[i + 5])) {
      out += wideToByte(parseInt(s.slice(i + 2, i + 6), 16));
      i += 5;
    } else if ((next === 'x' || next === 'X') && isHex(s[i + 2]) && isHex(s[i + 3])) {
      out += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (next >= '0' && next <= '7') {
      let j = i + 1;
      let digits = '';
      while (j < s.length && digits.length < 3 && s[j]! >= '0' && s[j]! <= '7') digits += s[j++];
      if (dialect.octalOverflow === 'two-digits' && digits.length === 3 && parseInt(digits, 8) > 0o377) digits = digits.slice(0, 2);
      out += String.fromCharCode(parseInt(digits, 8) & 0xff);
      i += digits.length;
    } else if (dialect.unknown === 'drop-backslash' || C_ESCAPES[next] !== undefined || C_QUOTED.has(next)) {
      out += C_ESCAPES[next] ?? next;
      i += 1;
    } else out += ch;
  }
  return out;
}

const JS_DIALECT: EscapeDialect = { unicode: true, octalOverflow: 'two-digits', unknown: 'drop-backslash' };
const C_DIALECT: EscapeDialect = { unicode: false, octalOverflow: 'low-byte', unknown: 'keep-backslash' };

/** JavaScript escapes: `\uHHHH`, `\xHH`, octal, the C letters; `\` before anything else is dropped. */
export function jsDecode(s: string): string {
  return decodeEscapes(s, JS_DIALECT);
}

/** ANSI C escapes (escapeSeqDecode): like jsDecode without `\u`, and an unknown escape keeps its backslash. */
export function escapeSeqDecode(s: string): string {
  return decodeEscapes(s, C_DIALECT);
}

/** CSS 2 escapes: `\` + 1-6 hex digits (one following whitespace eaten), `\` + newline removed, `\` + other = other. */
export function cssDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    if (i + 1 >= s.length) break;
    let j = i + 1;
    let hex = '';
    while (j < s.length && hex.length < 6 && isHex(s[j])) hex += s[j++];
    if (hex.length > 0) {
      const code = parseInt(hex, 16);
      out += hex.length > 2 ? wideToByte(code) : String.fromCharCode(code);
      if (s[j] === ' ' || s[j] === '\t' || s[j] === '\n' || s[j] === '\r' || s[j] === '\f') j++;
      i = j - 1;
    } else if (s[j] === '\n') i = j;
    else {
      out += s[j];
      i = j;
    }
  }
  return out;
}

/** Multi-byte UTF-8 sequences become `%uHHHH` (ModSecurity utf8toUnicode); invalid bytes stay. */
export function utf8toUnicode(s: string): string {
  if (!/[\x80-\xff]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const len = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (c < 0x80 || len === 1 || i + len > s.length) {
      out += s[i];
      continue;
    }
    let code = c & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
    let ok = true;
    for (let k = 1; k < len; k++) {
      const cc = s.charCodeAt(i + k);
      if ((cc & 0xc0) !== 0x80) ok = false;
      code = (code << 6) | (cc & 0x3f);
    }
    if (!ok) {
      out += s[i];
      continue;
    }
    out += '%u' + (code & 0xffff).toString(16).padStart(4, '0');
    i += len - 1;
  }
  return out;
}

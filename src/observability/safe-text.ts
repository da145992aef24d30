/**
 * Characters JSON.stringify leaves raw that still act on a terminal or a log viewer: DEL, the C1
 * controls U+0080-U+009F (U+0085 NEL is a line break to some tools, U+009B CSI starts an ANSI
 * sequence like ESC [), and U+2028/U+2029, line separators to JavaScript and many viewers. C0
 * controls (CR, LF, ESC, NUL ...) are already escaped by JSON.stringify and by pino.
 */
const UNSAFE = /[\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = /[\u007f-\u009f\u2028\u2029]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Escapes those characters in a serialised JSON line. They can only occur inside JSON strings, where
 * `\uXXXX` decodes to the same character: the line parses to the same value, but no raw byte of it
 * can forge a line or drive a terminal. The test makes the common clean line cost one scan.
 */
export function escapeUnsafeJson(line: string): string {
  return UNSAFE.test(line) ? line.replace(UNSAFE_ALL, escape) : line;
}

/**
 * Calls `visit(i, ch)` for each char of a JavaScript pattern source outside character classes and
 * escapes (where `(`, `)` and `|` are syntax); stops when `visit` returns true.
 */
export function scanOutside(src: string, visit: (i: number, ch: string) => boolean | void): void {
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      continue;
    }
    if (visit(i, ch) === true) return;
  }
}

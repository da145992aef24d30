/**
 * A single-pass structural scan of JSON text before `JSON.parse` sees it: nesting depth, keys per
 * object, string and array lengths, duplicate keys and prototype-polluting keys.
 *
 * Hand-written because no maintained npm package does this at the speed a gateway needs:
 * `secure-json-parse` only strips or refuses `__proto__`/`constructor` (after a full parse, with
 * a regex pre-check), `json-bigint` and friends re-implement the parser in slow recursive
 * JavaScript, and none of them refuses duplicate keys, which `JSON.parse` silently resolves to the
 * last one while other parsers keep the first (a parser differential, RFC 8259 section 4 says only
 * that names "SHOULD be unique"). The scan is iterative (an explicit stack, so a 100,000-deep
 * document cannot overflow the call stack), allocates one frame per open container and one Set per
 * object that has keys, and leaves syntax errors to `JSON.parse`, which runs after it: for valid
 * JSON the scan is exact, for invalid JSON the parse fails anyway.
 */

export interface JsonLimits {
  /** Deepest nesting of objects and arrays (the top-level value is depth 1). */
  readonly maxDepth: number;
  /** Most keys in one object. */
  readonly maxKeys: number;
  /** Longest string, key or value, in UTF-16 code units as written (escapes count as written). */
  readonly maxStringLength: number;
  /** Most elements in one array. */
  readonly maxArrayLength: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 64,
  maxKeys: 1000,
  maxStringLength: 65_536,
  maxArrayLength: 10_000,
});

export type JsonScanProblem =
  | { readonly kind: 'limit'; readonly limit: keyof JsonLimits; readonly offset: number }
  | { readonly kind: 'duplicate-key'; readonly offset: number }
  | { readonly kind: 'forbidden-key'; readonly offset: number };

/**
 * Keys refused anywhere in a document: assigning them while merging parsed JSON into another object
 * reaches `Object.prototype` (prototype pollution). `JSON.parse` itself makes them own properties,
 * but the code behind the gateway may not be so careful.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

interface Frame {
  readonly isObject: boolean;
  /** Keys seen (objects) or commas seen (arrays). */
  count: number;
  keys: Set<string> | undefined;
}

/** True when the character at `at` is escaped: an odd run of backslashes before it. */
function escapedAt(text: string, at: number): boolean {
  let k = at - 1;
  while (text.charCodeAt(k) === BACKSLASH) k--;
  return (at - 1 - k) % 2 === 1;
}

/** Scans `text`; returns the first problem found, or undefined when the structure is within `limits`. */
export function scanJson(text: string, limits: JsonLimits): JsonScanProblem | undefined {
  const stack: Frame[] = [];
  let top: Frame | undefined;
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      // indexOf finds the closing quote at native speed (most of a body is string content); a
      // quote is escaped when an odd number of backslashes precede it.
      let end = text.indexOf('"', start + 1);
      while (end !== -1 && escapedAt(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return undefined; // unterminated: JSON.parse reports it
      if (end - start - 1 > limits.maxStringLength) return { kind: 'limit', limit: 'maxStringLength', offset: start };
      if (expectKey && top !== undefined && top.isObject) {
        // "\u0061" and "a" are the same key: decode escapes before comparing.
        const raw = text.slice(start + 1, end);
        let key: string;
        try {
          key = raw.includes('\\') ? (JSON.parse(text.slice(start, end + 1)) as string) : raw;
        } catch {
          return undefined; // a bad escape: JSON.parse reports it
        }
        if (FORBIDDEN_KEYS.has(key)) return { kind: 'forbidden-key', offset: start };
        if (++top.count > limits.maxKeys) return { kind: 'limit', limit: 'maxKeys', offset: start };
        const keys = (top.keys ??= new Set());
        if (keys.has(key)) return { kind: 'duplicate-key', offset: start };
        keys.add(key);
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length >= limits.maxDepth) return { kind: 'limit', limit: 'maxDepth', offset: i };
      top = { isObject: c === OPEN_OBJECT, count: 0, keys: undefined };
      stack.push(top);
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
      top = stack[stack.length - 1];
      expectKey = false;
    } else if (c === COMMA && top !== undefined) {
      if (top.isObject) expectKey = true;
      // n commas separate n + 1 elements.
      else if (++top.count + 1 > limits.maxArrayLength) return { kind: 'limit', limit: 'maxArrayLength', offset: i };
    }
    i++;
  }
  return undefined;
}

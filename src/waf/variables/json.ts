import type { Arguments } from './collection.js';

/**
 * JSON bodies into arguments, named as ModSecurity v3 names them: `json.a.b` for nested members,
 * array elements by index (`json.list.0`). Values are their JSON text (`true`, `12`), strings
 * unquoted; `null` is empty. Depth is capped so a hostile body cannot recurse without bound.
 */
const MAX_DEPTH = 64;

export class JsonBodyError extends Error {}

/**
 * A byte above 0x7f, or a `\u` escape (`\u00e9` parses to a char that must become two bytes): two
 * tests, as one alternation stops the regex from scanning for a single char class (1.5x slower).
 */
const HIGH_BYTE = /[^\x00-\x7f]/;

/**
 * `a + b` as one flat string. `+` makes a string of 13 chars or more a rope (V8's ConsString) that
 * points at its parts, and `json.items.12.name` is a rope of ropes: its first char read flattens
 * it, and every later read of a char goes through the rope to the flat copy. The engine reads each
 * name char by char several times (char classes, the prefilter's scan, the SQLi pre-check,
 * base64Decode): in a loop, a rope name cost ~85 ns a pass and a flat one ~30. `join` writes the
 * chars into one new string.
 */
function flatConcat(a: string, b: string): string {
  if (a === '') return b;
  // One array for every join, not one per name (5 KB of a 4 KB body's garbage); emptied after each walk.
  PAIR[0] = a;
  PAIR[1] = b;
  return PAIR.join('');
}

const PAIR = ['', ''];

/** The walk's lists, kept (emptied) from one body to the next while no longer than MAX_KEPT_SCRATCH. */
let SCRATCH_KEYS: string[] = [];
let SCRATCH_VALUES: string[] = [];
const MAX_KEPT_SCRATCH = 4096;

/**
 * `text` holds the body's bytes, one char each; `asciiBytes`, when the caller knows, whether they
 * are all below 0x80 (node:buffer's isAscii reads the 4 KB body's bytes in ~0.3 us, the regex its
 * chars in ~5).
 */
export function flattenJson(text: string, asciiBytes = !HIGH_BYTE.test(text)): Arguments {
  // An ASCII body without `\u` escapes reads the same as UTF-8 and as bytes: no decoding before
  // the parse, no re-encoding of each string after.
  const ascii = asciiBytes && !text.includes('\\u');
  let root: unknown;
  try {
    root = JSON.parse(ascii ? text : Buffer.from(text, 'latin1').toString('utf8'));
  } catch (error) {
    throw new JsonBodyError(`JSON parsing error: ${(error as Error).message}`);
  }
  // Filled in the scratch lists, then copied at their final size: lists grown by push from empty
  // allocated ~3.5 times what the ~230 names and values of a 4 KB body take (~14 KB of its garbage).
  const keys = SCRATCH_KEYS;
  const values = SCRATCH_VALUES;
  let count = 0;
  const toBinary = ascii ? (s: string) => s : (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  // A member's name is `prefix` + `key`, made into a string only for a leaf (an argument).
  const walk = (value: unknown, prefix: string, key: string, depth: number) => {
    if (depth > MAX_DEPTH) throw new JsonBodyError('JSON nesting too deep');
    // Index loops and Object.keys, not forEach and Object.entries: no closure or [key, value]
    // pair per member (the walk of a 4 KB body took 25 us, now 10). Own keys only, as entries().
    // The `name.` prefix is built once per container, not once per member.
    if (Array.isArray(value)) {
      const inner = prefix + key + '.';
      for (let i = 0; i < value.length; i++) walk(value[i], inner, String(i), depth + 1);
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      const inner = prefix + key + '.';
      for (const k of Object.keys(record)) walk(record[k], inner, toBinary(k), depth + 1);
    } else {
      keys[count] = flatConcat(prefix, key);
      values[count++] = value === null ? '' : typeof value === 'string' ? toBinary(value) : String(value);
    }
  };
  try {
    walk(root, '', 'json', 0);
    return { keys: keys.slice(0, count), values: values.slice(0, count) };
  } finally {
    // No body's names or values stay reachable after its request, and a huge body's lists are let
    // go. Not `length = 0`: V8 would drop the lists' storage with it.
    PAIR[0] = PAIR[1] = '';
    if (keys.length > MAX_KEPT_SCRATCH) {
      SCRATCH_KEYS = [];
      SCRATCH_VALUES = [];
    } else {
      keys.fill('', 0, count);
      values.fill('', 0, count);
    }
  }
}

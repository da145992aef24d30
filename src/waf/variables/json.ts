import { isUtf8 } from 'node:buffer';
import type { Arguments } from './collection.js';
import { ANY, charClasses, LONE_DOT } from '../transforms/triggers.js';
import { failAt, flatConcat, flatSlice, forgetFlatParts, JsonBodyError, readString, stringClasses, stringEnd } from './json-string.js';

/*
 * JSON bodies into arguments, as ModSecurity v3's JSON processor builds them from yajl's callbacks:
 * every member in the order written, a repeated name as often as it is repeated, numbers as written
 * (`1.50`, `1e3`), strings unescaped to their UTF-8 bytes, `true`/`false`, and `null` empty. Names:
 * `json.a.b` for members, `json.list.0` for elements, `json` for a scalar body.
 *
 * A streaming parser written here, not JSON.parse and a walk of its objects, because JSON.parse
 * builds an object: of a repeated name it keeps the last value, so `{"q":"<attack>","q":"x"}` showed
 * the rules only `x` while a first-wins parser upstream (gjson, jsonparser) reads the attack; it puts
 * integer-like names first, and turns numbers into doubles (`1e999` became `Infinity`). It also
 * builds ~300 objects for a 4 KB body that the walk then reads once.
 *
 * The grammar is RFC 8259's, no extension (no comments, trailing commas, single quotes, NaN): what a
 * lenient parser upstream would read differently is a parse error here. A parse error ends the
 * body with the arguments read before it (yajl's callbacks had run for them too) and the error,
 * which becomes REQBODY_ERROR (ModSecurity's recommended rule 200002 refuses such a body).
 * json.test.ts checks acceptance and values against JSON.parse on generated and mutated bodies.
 */

export interface JsonArguments extends Arguments {
  /** Why the body is not JSON (REQBODY_ERROR_MSG): a description and a byte offset, never the body's bytes. */
  readonly error: string | undefined;
}

/** Values deeper than this end the body (a bound on the parser's recursion). */
const MAX_DEPTH = 64;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const OBJECT_OPEN = 0x7b;
const OBJECT_CLOSE = 0x7d;
const ARRAY_OPEN = 0x5b;
const ARRAY_CLOSE = 0x5d;

// The body being parsed and the position in it: parses are synchronous and do not nest.
let text = '';
let pos = 0;
let count = 0;

/** The parse's lists, kept (emptied) from one body to the next while no longer than MAX_KEPT_SCRATCH. */
let SCRATCH_KEYS: string[] = [];
let SCRATCH_VALUES: string[] = [];
/**
 * The char classes of each name and value (transforms/triggers.ts), gathered as the parser reads
 * the chars: the engine then need not read a body's ~460 names and values once more for them
 * (engine/raw-node.ts rawValues). Grown by doubling.
 */
let KEY_CLASSES = new Int32Array(256);
let VALUE_CLASSES = new Int32Array(256);
const MAX_KEPT_SCRATCH = 4096;

/**
 * The arguments of JSON body `text` (its bytes, one char each). `utf8`: whether the bytes are valid
 * UTF-8, as RFC 8259 requires and yajl checks (node:buffer's isUtf8 on the body, when the caller has it).
 */
export function flattenJson(text: string, utf8 = isUtf8(Buffer.from(text, 'latin1'))): JsonArguments {
  let error: string | undefined;
  try {
    parseBody(text);
    if (!utf8) error = 'JSON parsing error: the body is not valid UTF-8';
  } catch (e) {
    if (!(e instanceof JsonBodyError)) throw e;
    error = e.message;
  }
  // Copied at their final size: lists grown by push from empty allocated ~3.5 times what the ~230
  // names and values of a 4 KB body take.
  const result = { keys: SCRATCH_KEYS.slice(0, count), values: SCRATCH_VALUES.slice(0, count), keyClasses: KEY_CLASSES.slice(0, count), valueClasses: VALUE_CLASSES.slice(0, count), error };
  // No body's names or values stay reachable after its request, and a huge body's lists are let go.
  // Not `length = 0`: V8 would drop the lists' storage with it.
  if (SCRATCH_KEYS.length > MAX_KEPT_SCRATCH) {
    SCRATCH_KEYS = [];
    SCRATCH_VALUES = [];
    KEY_CLASSES = new Int32Array(256);
    VALUE_CLASSES = new Int32Array(256);
  } else {
    SCRATCH_KEYS.fill('', 0, count);
    SCRATCH_VALUES.fill('', 0, count);
  }
  forgetFlatParts();
  return result;
}

function parseBody(body: string): void {
  text = body;
  pos = 0;
  count = 0;
  try {
    whitespace();
    value('', ANY, 'json', ANY, 0);
    whitespace();
    if (pos < text.length) fail('unexpected character after the value');
  } finally {
    text = '';
  }
}

const fail = (what: string): never => failAt(what, pos);

/** The string at `pos` (a `"`); `pos` moves past it. */
function string(): string {
  const value = readString(text, pos);
  pos = stringEnd;
  return value;
}

/** An argument: its name `prefix + key` and value, with their char classes. */
function leaf(prefix: string, prefixClasses: number, key: string, keyClasses: number, v: string, valueClasses: number): void {
  if (count === KEY_CLASSES.length) {
    KEY_CLASSES = doubled(KEY_CLASSES);
    VALUE_CLASSES = doubled(VALUE_CLASSES);
  }
  KEY_CLASSES[count] = nameClasses(prefixClasses, keyClasses);
  VALUE_CLASSES[count] = valueClasses;
  SCRATCH_KEYS[count] = flatConcat(prefix, key);
  SCRATCH_VALUES[count++] = v;
}

function doubled(list: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(list.length * 2);
  grown.set(list);
  return grown;
}

/** The classes of name `prefix + key`: a name is never `.` (it starts with `json`), so a key's LONE_DOT stays out. */
const nameClasses = (pc: number, kc: number) => (pc | kc) & ~LONE_DOT;

/** The value at `pos`, named `prefix + key` (the char classes of each given). */
function value(prefix: string, pc: number, key: string, kc: number, depth: number): void {
  if (depth > MAX_DEPTH) throw new JsonBodyError('JSON nesting too deep');
  const c = text.charCodeAt(pos);
  if (c === QUOTE) {
    const v = string();
    leaf(prefix, pc, key, kc, v, stringClasses);
  } else if (c === OBJECT_OPEN) object(prefix + key + '.', nameClasses(pc, kc), depth);
  else if (c === ARRAY_OPEN) array(prefix + key + '.', nameClasses(pc, kc), depth);
  else if (c === MINUS || isDigit(c)) {
    const v = number();
    leaf(prefix, pc, key, kc, v, charClasses(v));
  } else if (word('true')) leaf(prefix, pc, key, kc, 'true', ANY);
  else if (word('false')) leaf(prefix, pc, key, kc, 'false', ANY);
  else if (word('null')) leaf(prefix, pc, key, kc, '', ANY);
  else fail(pos < text.length ? 'unexpected character' : 'unexpected end of the body');
}

function object(inner: string, ic: number, depth: number): void {
  if (opened(OBJECT_CLOSE)) return;
  do {
    if (text.charCodeAt(pos) !== QUOTE) fail('expected a member name');
    const key = string();
    const kc = stringClasses;
    whitespace();
    if (text.charCodeAt(pos) !== COLON) fail("expected ':'");
    pos++;
    whitespace();
    value(inner, ic, key, kc, depth + 1);
  } while (!closed(OBJECT_CLOSE, "expected ',' or '}'"));
}

function array(inner: string, ic: number, depth: number): void {
  if (opened(ARRAY_CLOSE)) return;
  let i = 0;
  // An index is digits: no class.
  do value(inner, ic, String(i++), ANY, depth + 1);
  while (!closed(ARRAY_CLOSE, "expected ',' or ']'"));
}

/** Past the container's opening char: true when it is empty (and passed). */
function opened(close: number): boolean {
  pos++;
  whitespace();
  if (text.charCodeAt(pos) !== close) return false;
  pos++;
  return true;
}

/** After a member or element: true at the container's end, false after a comma (both passed). */
function closed(close: number, expected: string): boolean {
  whitespace();
  const c = text.charCodeAt(pos);
  if (c !== COMMA && c !== close) fail(expected);
  pos++;
  if (c === close) return true;
  whitespace();
  return false;
}

function whitespace(): void {
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
    pos++;
  }
}

function word(w: string): boolean {
  if (!text.startsWith(w, pos)) return false;
  pos += w.length;
  return true;
}

const isDigit = (c: number) => c >= ZERO && c <= 0x39;

function digits(): void {
  if (!isDigit(text.charCodeAt(pos))) fail('invalid number');
  while (isDigit(text.charCodeAt(pos))) pos++;
}

/** A number as written: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. */
function number(): string {
  const start = pos;
  if (text.charCodeAt(pos) === MINUS) pos++;
  if (text.charCodeAt(pos) === ZERO) pos++;
  else digits();
  if (text.charCodeAt(pos) === DOT) {
    pos++;
    digits();
  }
  const e = text.charCodeAt(pos);
  if (e === 0x65 || e === 0x45) {
    pos++;
    const sign = text.charCodeAt(pos);
    if (sign === PLUS || sign === MINUS) pos++;
    digits();
  }
  return flatSlice(text, start, pos);
}

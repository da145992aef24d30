import type { VarEntry } from '../types.js';
import { SlotIndex } from './slot-map.js';
import { Entry } from './entry.js';

/** The collections populate builds (variables/populate.ts), each with a fixed slot in a transaction's SlotMap. */
export const COLLECTION_SLOTS = new SlotIndex([
  'REQUEST_HEADERS', 'REQUEST_HEADERS_NAMES', 'REQUEST_COOKIES', 'REQUEST_COOKIES_NAMES', 'ARGS', 'ARGS_NAMES',
  'ARGS_GET', 'ARGS_GET_NAMES', 'ARGS_POST', 'ARGS_POST_NAMES', 'XML', 'FILES', 'FILES_NAMES', 'FILES_SIZES',
  'MULTIPART_PART_HEADERS', 'RESPONSE_HEADERS', 'RESPONSE_HEADERS_NAMES',
]);

/** The list of what a request lacks (a header, XML, FILES): shared, never mutated, so no list is allocated for it. */
export const NO_ENTRIES: readonly VarEntry[] = [];

/**
 * A body's or query's arguments in order, as two parallel lists: a 4 KB JSON body has ~230, and a
 * `[key, value]` array for each was 7 KB of the request's garbage.
 */
export interface Arguments {
  readonly keys: readonly string[];
  readonly values: readonly string[];
  /** The char classes of each key and value (transforms/triggers.ts charClasses), when the parser had them. */
  readonly keyClasses?: Int32Array;
  readonly valueClasses?: Int32Array;
}

/**
 * An ordered multi-map with case-insensitive keys, as ModSecurity's collections are. Keys and
 * values are kept as two lists, and an entry object (what rules select, with its name) is made
 * when something asks for that entry: a 4 KB JSON body puts ~230 arguments each in ARGS and
 * ARGS_NAMES, the engine reads their values as lists (engine/raw-node.ts), and at paranoia level 1
 * asks for the entries of ~600 of the ~2,300 values its rules walk.
 */
export class Collection {
  private keyList: string[] = [];
  private valueList: string[] = [];
  /** The lists were handed out (`keys`, `values`) or taken in (`assign`): copied before the next add. */
  private shared = false;
  /** Entries made so far, by index; all of them once `entries` was read. */
  private made: (VarEntry | undefined)[] | undefined = undefined;
  private complete = false;
  /**
   * The keys lower-cased, computed at the first `byKey` and kept up to date after: rules select
   * headers by key (`REQUEST_HEADERS:User-Agent`) many times per request, but no CRS rule selects
   * a JSON body's ~230 arguments by key, and lower-casing each as it was added (in ARGS,
   * ARGS_POST and ARGS_NAMES) cost a 4 KB body ~240 K instructions, 4% of it.
   */
  private lowerKeys: string[] | undefined = undefined;
  /**
   * Each value's char classes, when whoever assigned the values had them (a JSON body's parser reads
   * every char anyway): the engine's first look at a collection computes them otherwise
   * (engine/raw-node.ts), ~36 ns a value. Dropped by any change.
   */
  private classList: Int32Array | undefined = undefined;
  /** Bumped by every change: what the engine's per-collection memos are checked against (engine/values.ts). */
  version = 0;

  constructor(readonly name: string) {}

  get size(): number {
    return this.keyList.length;
  }

  /** The keys in order; never changed in place afterwards (an add copies them first). */
  get keys(): readonly string[] {
    this.shared = true;
    return this.keyList;
  }

  /** The values in order, as `keys`. */
  get values(): readonly string[] {
    this.shared = true;
    return this.valueList;
  }

  /** The values' char classes, if they came with the values (`assign`) and nothing changed since. */
  get valueClasses(): Int32Array | undefined {
    return this.classList;
  }

  /** Every entry, in order. The list is the collection's own and grows with `add`, as before lists were made lazily. */
  get entries(): readonly VarEntry[] {
    if (!this.complete) {
      for (let i = 0; i < this.keyList.length; i++) this.entryAt(i);
      this.made ??= [];
      this.complete = true;
    }
    // Every slot is filled now.
    return this.made as VarEntry[];
  }

  /** Entry `i` (below `size`), made at its first read and the same object after. */
  entryAt(i: number): VarEntry {
    const made = (this.made ??= new Array<VarEntry | undefined>(this.keyList.length));
    return (made[i] ??= new Entry(this.name, this.keyList[i]!, this.valueList[i]!));
  }

  add(key: string, value: string): void {
    if (this.shared) {
      this.keyList = this.keyList.slice();
      this.valueList = this.valueList.slice();
      this.shared = false;
    }
    this.keyList.push(key);
    this.valueList.push(value);
    // A complete list gets the new entry; an incomplete one makes it when read (entryAt).
    if (this.complete) this.made!.push(new Entry(this.name, key, value));
    this.lowerKeys?.push(key.toLowerCase());
    this.classList = undefined;
    this.version++;
  }

  /**
   * Replaces the entries with `keys[i]` = `values[i]`, and `classes[i]` the value's char classes
   * when known. The lists are kept as given (the caller must not change them after), and no entry
   * is made until one is read.
   */
  assign(keys: readonly string[], values: readonly string[], classes?: Int32Array): void {
    this.keyList = keys as string[];
    this.valueList = values as string[];
    this.classList = classes;
    this.shared = true;
    this.made = undefined;
    this.complete = false;
    this.lowerKeys = undefined;
    this.version++;
  }

  /** Entries whose key equals `lowerKey` (already lower-cased). */
  byKey(lowerKey: string): readonly VarEntry[] {
    // Rules ask for many headers a request does not have: no list is allocated for them.
    const keys = this.keyList;
    if (keys.length === 0) return NO_ENTRIES;
    let lowerKeys = this.lowerKeys;
    if (lowerKeys === undefined) {
      lowerKeys = this.lowerKeys = [];
      for (let i = 0; i < keys.length; i++) lowerKeys.push(keys[i]!.toLowerCase());
    }
    let out: VarEntry[] | undefined;
    for (let i = 0; i < keys.length; i++) if (lowerKeys[i] === lowerKey) (out ??= []).push(this.entryAt(i));
    return out ?? NO_ENTRIES;
  }

  byRegex(re: RegExp): VarEntry[] {
    const out: VarEntry[] = [];
    for (let i = 0; i < this.keyList.length; i++) {
      re.lastIndex = 0;
      if (re.test(this.keyList[i]!)) out.push(this.entryAt(i));
    }
    return out;
  }
}

/** A `*_NAMES` view: one entry per key whose value is the key itself. */
export function namesOf(source: Collection, name: string, keyClasses?: Int32Array): Collection {
  const names = new Collection(name);
  names.assign(source.keys, source.keys, keyClasses);
  return names;
}

/** ModSecurity's argument decoding: `+` is a space, `%XX` a byte, bad escapes stay. */
export function decodeArg(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  return s.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Splits `a=1&b=2` into decoded arguments; a part without `=` is a name with an empty value. */
export function parseUrlEncoded(text: string): Arguments {
  const keys: string[] = [];
  const values: string[] = [];
  if (text !== '') {
    for (const part of text.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      keys.push(decodeArg(eq === -1 ? part : part.slice(0, eq)));
      values.push(eq === -1 ? '' : decodeArg(part.slice(eq + 1)));
    }
  }
  return { keys, values };
}

/** `%XX` only (ModSecurity's uri_decode for REQUEST_URI and REQUEST_FILENAME: `+` stays). */
export function decodeUri(s: string): string {
  return s.includes('%') ? s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))) : s;
}

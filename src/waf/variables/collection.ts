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
}

/** An ordered multi-map with case-insensitive keys, as ModSecurity's collections are. */
export class Collection {
  /** Replaced whole by `assign`: a list in use (a rule walking it) is never changed under it by that. */
  entries: VarEntry[] = [];
  /**
   * `entries[i].key` lower-cased, computed at the first `byKey` and kept up to date after: rules
   * select headers by key (`REQUEST_HEADERS:User-Agent`) many times per request, but no CRS rule
   * selects a JSON body's ~230 arguments by key, and lower-casing each as it was added (in ARGS,
   * ARGS_POST and ARGS_NAMES) cost a 4 KB body ~240 K instructions, 4% of it.
   */
  private lowerKeys: string[] | undefined = undefined;
  /** Bumped by every change: what the engine's per-collection memos are checked against (engine/values.ts). */
  version = 0;

  constructor(readonly name: string) {}

  add(key: string, value: string): void {
    this.entries.push(new Entry(this.name, key, value));
    this.lowerKeys?.push(key.toLowerCase());
    this.version++;
  }

  /**
   * Replaces the entries with `keys[i]` = `values[i]`, in one list of the final size: a list grown by
   * pushes allocates about twice its size on the way (~230 entries each in a JSON body's ARGS and
   * ARGS_NAMES).
   */
  assign(keys: readonly string[], values: readonly string[]): void {
    const name = this.name;
    this.entries = keys.map((key, i) => new Entry(name, key, values[i]!));
    this.lowerKeys = undefined;
    this.version++;
  }

  /** Entries whose key equals `lowerKey` (already lower-cased). */
  byKey(lowerKey: string): readonly VarEntry[] {
    // Rules ask for many headers a request does not have: no list is allocated for them.
    const entries = this.entries;
    if (entries.length === 0) return NO_ENTRIES;
    let lowerKeys = this.lowerKeys;
    if (lowerKeys === undefined) {
      lowerKeys = this.lowerKeys = [];
      for (let i = 0; i < entries.length; i++) lowerKeys.push(entries[i]!.key.toLowerCase());
    }
    let out: VarEntry[] | undefined;
    for (let i = 0; i < entries.length; i++) if (lowerKeys[i] === lowerKey) (out ??= []).push(entries[i]!);
    return out ?? NO_ENTRIES;
  }

  byRegex(re: RegExp): VarEntry[] {
    return this.entries.filter((e) => {
      re.lastIndex = 0;
      return re.test(e.key);
    });
  }
}

/** A `*_NAMES` view: one entry per key whose value is the key itself. */
export function namesOf(source: Collection, name: string): Collection {
  const names = new Collection(name);
  names.entries = source.entries.map((e) => new Entry(name, e.key, e.key));
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

import type { VarEntry } from '../types.js';
import { retained } from './slot-map.js';
import { namedEntry } from './entry.js';

/**
 * The single-valued variables populate sets (variables/populate.ts): each has a fixed slot, so a
 * transaction's scalars are one array of ~30 slots rather than a Map that grows (and rehashes)
 * through ~20 inserts a request. A name not listed still works, through a map of its own.
 */
const SLOT_NAMES = [
  'REQUEST_METHOD', 'REQUEST_PROTOCOL', 'REQUEST_LINE', 'REQUEST_URI_RAW', 'REQUEST_URI', 'REQUEST_FILENAME',
  'REQUEST_BASENAME', 'QUERY_STRING', 'REMOTE_ADDR', 'REMOTE_PORT', 'SERVER_PORT', 'SERVER_NAME', 'UNIQUE_ID',
  'REQBODY_ERROR', 'REQBODY_PROCESSOR_ERROR', 'REQBODY_ERROR_MSG', 'REQBODY_PROCESSOR', 'ARGS_COMBINED_SIZE',
  'REQUEST_BODY', 'REQUEST_BODY_LENGTH', 'FILES_COMBINED_SIZE', 'MULTIPART_STRICT_ERROR', 'MULTIPART_UNMATCHED_BOUNDARY',
  'RESPONSE_STATUS', 'RESPONSE_PROTOCOL', 'RESPONSE_CONTENT_LENGTH', 'RESPONSE_BODY',
] as const;
const SLOT_OF: ReadonlyMap<string, number> = new Map(SLOT_NAMES.map((name, i) => [name, i]));

/**
 * The slot of a variable name, or -1 for a name without one: selectors and mask sources keep it
 * from load on (compile/targets.ts), so reading a scalar costs an array read, not a lookup of its
 * name (the scalars' map was 139 of a GET's ~500 Map lookups).
 */
export function scalarSlot(name: string): number {
  return SLOT_OF.get(name) ?? -1;
}

/**
 * Single-valued variables (REQUEST_URI, REQUEST_METHOD, ...). Each is kept as the one-entry list a
 * rule's selection of it returns, built when the value is set (about 20 times a request) rather
 * than at every selection (about 50 in a GET's rules). The lists are shared: never mutated.
 * Slots of their own rather than a SlotMap (variables/slot-map.ts): built on one, a GET counted
 * 1.1% more instructions (one more object between a rule and its value, and shared code seeing
 * two kinds of values).
 */
export class Scalars {
  private readonly slots: (readonly VarEntry[] | undefined)[] = new Array<readonly VarEntry[] | undefined>(SLOT_NAMES.length).fill(undefined);
  private others: Map<string, readonly VarEntry[]> | undefined = undefined;

  set(name: string, value: string): void {
    const list = [namedEntry(name, '', value)];
    const slot = SLOT_OF.get(name);
    if (slot !== undefined) this.slots[slot] = list;
    else (this.others ??= new Map()).set(name, list);
  }

  get(name: string): string | undefined {
    return this.selection(name)?.[0]!.value;
  }

  has(name: string): boolean {
    return this.selection(name) !== undefined;
  }

  /** Drops every variable not named in `names` (a transaction about to be parked: engine/park.ts). */
  retainOnly(names: ReadonlySet<string>): void {
    for (let i = 0; i < SLOT_NAMES.length; i++) if (!names.has(SLOT_NAMES[i]!)) this.slots[i] = undefined;
    if (this.others !== undefined) this.others = retained(this.others, names);
  }

  /** The variable as a rule selects it, or undefined when it is not set. */
  selection(name: string): readonly VarEntry[] | undefined {
    const slot = SLOT_OF.get(name);
    return slot !== undefined ? this.slots[slot] : this.others?.get(name);
  }

  /** selection(name) when `slot` is scalarSlot(name), known at load. */
  selectionAt(slot: number, name: string): readonly VarEntry[] | undefined {
    return slot >= 0 ? this.slots[slot] : this.others?.get(name);
  }
}

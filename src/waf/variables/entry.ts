import type { VarEntry } from '../types.js';

/**
 * One value of a variable, as rules select it. Its full name (`ARGS:json.items.0.id`, what
 * MATCHED_VAR_NAME and the audit record show) is built the first time something reads it: a 4 KB
 * JSON body adds ~460 entries to ARGS and ARGS_NAMES, and rules read the name of the few that
 * match. Built eagerly, the names were ~30 KB of the request's garbage.
 *
 * Every entry the engine makes is one of these, so the engine's property reads see one shape.
 */
export class Entry implements VarEntry {
  private fullName: string | undefined;

  /** `collection` and `key` make the name, unless `name` gives it (a scalar's name is its own). */
  constructor(
    private readonly collection: string,
    readonly key: string,
    readonly value: string,
    name?: string,
  ) {
    this.fullName = name;
  }

  get name(): string {
    return (this.fullName ??= `${this.collection}:${this.key}`);
  }
}

/** An entry whose name is given whole (scalars, counts, MATCHED_VAR). */
export function namedEntry(name: string, key: string, value: string): Entry {
  return new Entry('', key, value, name);
}

/** The entry as a plain object, its name read: what serializes or compares field by field (a getter does not). */
export function plainEntry(e: VarEntry): VarEntry {
  return { name: e.name, key: e.key, value: e.value };
}

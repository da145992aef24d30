import type { VarEntry } from '../types.js';

/**
 * Single-valued variables (REQUEST_URI, REQUEST_METHOD, ...). Each is kept as the one-entry list a
 * rule's selection of it returns, built when the value is set (about 20 times a request) rather
 * than at every selection (about 50 in a GET's rules). The lists are shared: never mutated.
 */
export class Scalars {
  private lists = new Map<string, readonly VarEntry[]>();

  set(name: string, value: string): void {
    this.lists.set(name, [{ name, key: '', value }]);
  }

  get(name: string): string | undefined {
    return this.lists.get(name)?.[0]!.value;
  }

  has(name: string): boolean {
    return this.lists.has(name);
  }

  /**
   * Drops every variable not named in `names`, into a new map: deleting most of a map's entries
   * shrinks its table again and again (a GET's trim spent ~1.6 KB on that).
   */
  retainOnly(names: ReadonlySet<string>): void {
    this.lists = retained(this.lists, names);
  }

  /** The variable as a rule selects it, or undefined when it is not set. */
  selection(name: string): readonly VarEntry[] | undefined {
    return this.lists.get(name);
  }
}

/** The entries of `map` whose key is in `names`, as a new map. */
export function retained<V>(map: ReadonlyMap<string, V>, names: ReadonlySet<string>): Map<string, V> {
  const kept = new Map<string, V>();
  for (const [name, value] of map) if (names.has(name)) kept.set(name, value);
  return kept;
}

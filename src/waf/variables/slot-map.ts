/** Names known at load, each with a fixed index (a variable's slot). */
export class SlotIndex {
  private readonly of: ReadonlyMap<string, number>;

  constructor(readonly names: readonly string[]) {
    this.of = new Map(names.map((name, i) => [name, i]));
  }

  /** The slot of `name`, or -1 for a name without one. */
  slotOf(name: string): number {
    return this.of.get(name) ?? -1;
  }
}

/**
 * Values by name, as a Map would hold them, with the names of an index in fixed slots: a
 * transaction's variables are read ~500 times a GET, and a selector that knows its variable's slot
 * from load (compile/targets.ts) reads an array instead of looking a name up (V8's Map lookups
 * were 7% of a GET's instructions, these reads most of them). A name without a slot still works,
 * through a map of its own.
 */
export class SlotMap<V> {
  private readonly slots: (V | undefined)[];
  private others: Map<string, V> | undefined = undefined;

  constructor(private readonly index: SlotIndex) {
    this.slots = new Array<V | undefined>(index.names.length).fill(undefined);
  }

  get(name: string): V | undefined {
    return this.getAt(this.index.slotOf(name), name);
  }

  /** get(name) when `slot` is the index's slot of `name`, known at load. */
  getAt(slot: number, name: string): V | undefined {
    return slot >= 0 ? this.slots[slot] : this.others?.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, value: V): void {
    const slot = this.index.slotOf(name);
    if (slot >= 0) this.slots[slot] = value;
    else (this.others ??= new Map()).set(name, value);
  }

  /** The names set, slots first. */
  keys(): string[] {
    const out = this.index.names.filter((_, i) => this.slots[i] !== undefined);
    if (this.others !== undefined) out.push(...this.others.keys());
    return out;
  }

  /** Drops every value whose name is not in `names` (a transaction about to be parked: engine/park.ts). */
  retainOnly(names: ReadonlySet<string>): void {
    for (let i = 0; i < this.slots.length; i++) if (!names.has(this.index.names[i]!)) this.slots[i] = undefined;
    if (this.others !== undefined) this.others = retained(this.others, names);
  }
}

/**
 * The entries of `map` whose key is in `names`, as a new map: deleting most of a map's entries
 * shrinks its table again and again (a GET's trim spent ~1.6 KB on that).
 */
export function retained<V>(map: ReadonlyMap<string, V>, names: ReadonlySet<string>): Map<string, V> {
  const kept = new Map<string, V>();
  for (const [name, value] of map) if (names.has(name)) kept.set(name, value);
  return kept;
}

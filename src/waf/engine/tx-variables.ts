import type { VarEntry } from '../types.js';

/** TX as the CRS setup leaves it (engine/prefix-fold.ts), shared by every transaction that starts from it. */
export class TxBase {
  /** Name -> slot. */
  readonly index: ReadonlyMap<string, number>;
  readonly names: readonly string[];
  readonly slots: readonly VarEntry[];

  constructor(entries: Iterable<readonly [string, VarEntry]>) {
    const index = new Map<string, number>();
    const names: string[] = [];
    const slots: VarEntry[] = [];
    for (const [name, entry] of entries) {
      index.set(name, names.length);
      names.push(name);
      slots.push(entry);
    }
    this.index = index;
    this.names = names;
    this.slots = slots;
  }

  private readonly regexHits = new Map<RegExp, Uint8Array>();

  /**
   * Per slot, 1 when `keyRegex` matches the slot's key (the name as first written), computed once
   * per regex: the CRS reads TX by key regex per request (920450 per request header, 922110), and
   * testing all 44 setup names each time was ~5% of a GET. Key regexes are compiled with the rule
   * set, so the same objects come back request after request.
   */
  hitsOf(keyRegex: RegExp): Uint8Array {
    let hits = this.regexHits.get(keyRegex);
    if (hits === undefined) {
      hits = new Uint8Array(this.slots.length);
      for (let i = 0; i < hits.length; i++) hits[i] = keyRegex.test(this.slots[i]!.key) ? 1 : 0;
      this.regexHits.set(keyRegex, hits);
    }
    return hits;
  }
}

const NO_SLOTS: VarEntry[] = [];

/**
 * TX by lower-cased name, with a Map's semantics (insertion order included). A transaction that
 * takes the CRS setup's fold starts from its TxBase: the 44 setup variables are a copied array of
 * entries (~400 bytes), their names looked up in the base's shared index; names the request adds
 * go to a map of their own. Copying the fold into a Map of its own cost a GET 3.5 KB and 44
 * inserts, and a parked transaction held that copy across young-generation collections.
 *
 * Order: base names first, in the base's order (a write keeps a name's place, as in a Map), then
 * added names in the order first written. Deleting a base name (`setvar:!tx.x`, rare) first turns
 * everything into one plain map, so that a name written again afterwards goes last, as in a Map.
 */
export class TxVariables {
  /** Set in slot mode: its index names the slots. */
  private base: TxBase | undefined = undefined;
  /** Every slot is set while `base` is: a delete leaves slot mode. */
  private slots: VarEntry[] = NO_SLOTS;
  private added = new Map<string, VarEntry>();

  get size(): number {
    return this.slots.length + this.added.size;
  }

  /** Starts from the base (TX must be empty): its entries are shared, never written. */
  startFrom(base: TxBase): void {
    if (this.size !== 0) throw new Error('TX must be empty to start from a base');
    this.base = base;
    this.slots = base.slots.slice();
  }

  get(name: string): VarEntry | undefined {
    if (this.base !== undefined) {
      const slot = this.base.index.get(name);
      if (slot !== undefined) return this.slots[slot];
    }
    return this.added.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, entry: VarEntry): void {
    if (this.base !== undefined) {
      const slot = this.base.index.get(name);
      if (slot !== undefined) {
        this.slots[slot] = entry;
        return;
      }
    }
    this.added.set(name, entry);
  }

  delete(name: string): boolean {
    if (this.base?.index.has(name)) this.leaveSlotMode();
    return this.added.delete(name);
  }

  clear(): void {
    this.base = undefined;
    this.slots = NO_SLOTS;
    this.added.clear();
  }

  /** Every entry, in order, as a new list (a snapshot: the caller's rule may change TX while it walks it). */
  list(): VarEntry[] {
    const out = this.slots.slice();
    for (const entry of this.added.values()) out.push(entry);
    return out;
  }

  /** The entries whose name (as first written) `keyRegex` matches, in order, or undefined for none. */
  matching(keyRegex: RegExp): VarEntry[] | undefined {
    let out: VarEntry[] | undefined;
    const base = this.base;
    const hits = base?.hitsOf(keyRegex);
    for (let i = 0; i < this.slots.length; i++) {
      const entry = this.slots[i]!;
      // A slot rewritten with the name as the base wrote it (the usual case) keeps the base's answer.
      const hit = entry.key === base!.slots[i]!.key ? hits![i] === 1 : keyRegex.test(entry.key);
      if (hit) (out ??= []).push(entry);
    }
    for (const entry of this.added.values()) if (keyRegex.test(entry.key)) (out ??= []).push(entry);
    return out;
  }

  *[Symbol.iterator](): IterableIterator<[string, VarEntry]> {
    for (let i = 0; i < this.slots.length; i++) yield [this.base!.names[i]!, this.slots[i]!];
    yield* this.added;
  }

  private leaveSlotMode(): void {
    const all = new Map<string, VarEntry>();
    for (let i = 0; i < this.slots.length; i++) all.set(this.base!.names[i]!, this.slots[i]!);
    for (const [name, entry] of this.added) all.set(name, entry);
    this.clear();
    this.added = all;
  }
}

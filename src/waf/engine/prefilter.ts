/**
 * The literal prefilter: one Aho-Corasick pass over a value tells which rules can possibly match
 * it. Each prefiltered rule (an `@rx` with provable required literals, see regex/literals.ts, or
 * an `@pm` list) owns one bit; a literal found in the value sets the bits of the rules that
 * require it. A rule whose bit is clear cannot match the value, so its operator is not run.
 *
 * Matching is ASCII-case-insensitive (literals are ASCII lower-cased, so is each input char), the
 * domain in which the literals were derived. Literal chars are bytes (below 256: an `@pm` phrase's
 * UTF-8 bytes, a caseless Latin-1 symbol of a pattern), so a char above 0xff only returns the
 * automaton to its root. The automaton is a dense
 * table over the chars the literals use: one array read per input char.
 */

/** Literals one of which is in every input a rule's operator can match, or undefined (no prefilter). */
export type RuleLiterals = readonly string[] | undefined;

/**
 * Literals longer than this are cut to their first chars: a literal's prefix occurs wherever it
 * does, so the requirement only gets weaker (still exact), and the automaton stays small (the CRS:
 * 88,000 states and 26 MB uncut; 18,500 states, 2.7 MB cut at 8).
 */
export const MAX_LITERAL = 8;

/**
 * Cuts long literals and drops those that contain another literal of the same set: `{ab, abc}`
 * requires the same as `{ab}`.
 */
export function minimalLiterals(literals: readonly string[]): string[] {
  const sorted = [...new Set(literals.map((l) => l.slice(0, MAX_LITERAL)))].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const lit of sorted) if (!kept.some((k) => lit.includes(k))) kept.push(lit);
  return kept;
}

export class Prefilter {
  /** Words per bitset. */
  readonly words: number;
  /** Byte (ASCII lower-cased) -> column; 0 for chars in no literal (they lead back to the root). */
  private readonly column = new Uint16Array(256);
  private readonly columns: number;
  /** The automaton as a dense table: state * columns + column -> state (16-bit when it fits). */
  private readonly delta: Uint16Array | Uint32Array;
  /**
   * What each state reports (its own literals and those of its fail chain) as (word, mask) pairs,
   * one per bitset word it touches: state `s`'s pairs are `outPairs[outStart[s]..outStart[s + 1])`.
   * Flat typed arrays, not a list of rule bits per state: a 4 KB JSON body reaches a reporting state
   * at ~4,500 of its ~5,400 chars, and the lists cost a pointer chase and a bit each (15 ns a char).
   */
  private readonly outStart: Uint32Array;
  private readonly outPairs: Int32Array;
  /**
   * Added to a transition's target when that state reports: the scan reads `outStart` only then
   * (at ~1 char in 6 of a JSON body), not at every char.
   */
  private readonly reports: number;
  /**
   * The reporting states the scans reached since beginReach, each once (`reachedStamp[state]` is
   * `stamp` once listed): a union of many values' verdicts is the OR of these states' pairs, ~20
   * states for a 4 KB JSON body's ~230 names, not of ~230 rows of 15 words.
   */
  private readonly reachedStamp: Uint32Array;
  private readonly reached: Int32Array;
  private reachedCount = 0;
  private stamp = 1;

  constructor(perRule: readonly (readonly string[])[]) {
    this.words = Math.max(1, Math.ceil(perRule.length / 32));
    const literals = perRule.map(minimalLiterals);
    let columns = 1;
    for (const list of literals) for (const lit of list) for (let i = 0; i < lit.length; i++) {
      const c = lit.charCodeAt(i);
      if (this.column[c] === 0) this.column[c] = columns++;
    }
    for (let c = 65; c <= 90; c++) this.column[c] = this.column[c + 32]!;
    this.columns = columns;
    // The trie: children by (state, column), outputs per state.
    const children: Map<number, number>[] = [new Map()];
    const outputs: (number[] | undefined)[] = [undefined];
    literals.forEach((list, bit) => {
      for (const lit of list) {
        let state = 0;
        for (let i = 0; i < lit.length; i++) {
          const col = this.column[lit.charCodeAt(i)]!;
          let to = children[state]!.get(col);
          if (to === undefined) {
            to = children.length;
            children.push(new Map());
            outputs.push(undefined);
            children[state]!.set(col, to);
          }
          state = to;
        }
        (outputs[state] ??= []).push(bit);
      }
    });
    const { children: bfsChildren, outputs: bfsOutputs } = inBreadthFirstOrder(children, outputs);
    // Breadth first: a state's fail target is shallower, so its row and outputs are complete.
    const states = bfsChildren.length;
    // A state id with REPORTS added is a transition into a state that reports: the flag fits in the
    // table's type while the ids stay below it.
    this.reports = states < 0x8000 ? 0x8000 : 0x80000000;
    const delta = states < 0x8000 ? new Uint16Array(states * columns) : new Uint32Array(states * columns);
    const fail = new Uint32Array(states);
    const queue: number[] = [];
    for (const [col, child] of bfsChildren[0]!) {
      delta[col] = child;
      queue.push(child);
    }
    for (let q = 0; q < queue.length; q++) {
      const state = queue[q]!;
      const f = fail[state]!;
      for (let col = 0; col < columns; col++) delta[state * columns + col] = delta[f * columns + col]!;
      for (const [col, child] of bfsChildren[state]!) {
        delta[state * columns + col] = child;
        fail[child] = col === 0 ? 0 : delta[f * columns + col]!;
        queue.push(child);
      }
      const inherited = bfsOutputs[f];
      if (inherited !== undefined) bfsOutputs[state] = [...new Set([...(bfsOutputs[state] ?? []), ...inherited])];
    }
    // Column 0 (a char in no literal) always returns to the root.
    for (let st = 0; st < states; st++) delta[st * columns] = 0;
    for (let k = 0; k < delta.length; k++) if (bfsOutputs[delta[k]!] !== undefined) delta[k]! += this.reports;
    this.delta = delta;
    this.outStart = new Uint32Array(states + 1);
    const pairs: number[] = [];
    for (let st = 0; st < states; st++) {
      this.outStart[st] = pairs.length;
      const byWord = new Map<number, number>();
      for (const bit of bfsOutputs[st] ?? []) byWord.set(bit >>> 5, (byWord.get(bit >>> 5) ?? 0) | (1 << (bit & 31)));
      for (const [word, mask] of byWord) pairs.push(word, mask);
    }
    this.outStart[states] = pairs.length;
    this.outPairs = Int32Array.from(pairs);
    this.reachedStamp = new Uint32Array(states);
    this.reached = new Int32Array(states);
  }

  /** Starts a new list of reached reporting states (orReached). */
  beginReach(): void {
    this.reachedCount = 0;
    if (++this.stamp === 0xffffffff) {
      this.reachedStamp.fill(0);
      this.stamp = 1;
    }
  }

  /** ORs into the zeroed words at `offset` what every value scanned since beginReach reported: the union of their verdicts. */
  orReached(bits: Uint32Array, offset: number): void {
    const { reached, outStart, outPairs } = this;
    for (let r = 0; r < this.reachedCount; r++) {
      const state = reached[r]!;
      const end = outStart[state + 1]!;
      for (let k = outStart[state]!; k < end; k += 2) bits[offset + outPairs[k]!]! |= outPairs[k + 1]!;
    }
  }

  /**
   * Sets bit `k` of the `words` words at `offset` when rule `k` may match `value`; they must be zero
   * before (a new row of the evaluation cache's pool is): a clear bit means it cannot.
   */
  scanInto(value: string, bits: Uint32Array, offset: number): void {
    this.scanRange(value, 0, value.length, 0, bits, offset);
  }

  /**
   * Reads `value[from..to)` from automaton state `state`, ORing what it finds into the words at
   * `offset`, and returns the state it ends in. Reading a value in two ranges, the second from the
   * state the first returned, finds what one read of the whole finds: what a char reports depends
   * only on the state after it, and that state only on the chars before.
   */
  scanRange(value: string, from: number, to: number, state: number, bits: Uint32Array, offset: number): number {
    const { delta, column, columns, outStart, outPairs, reports, reachedStamp, reached, stamp } = this;
    let count = this.reachedCount;
    for (let i = from; i < to; i++) {
      const c = value.charCodeAt(i);
      state = c >= 256 ? 0 : delta[state * columns + column[c]!]!;
      if (state < reports) continue;
      state -= reports;
      if (reachedStamp[state] !== stamp) {
        reachedStamp[state] = stamp;
        reached[count++] = state;
      }
      const end = outStart[state + 1]!;
      for (let k = outStart[state]!; k < end; k += 2) bits[offset + outPairs[k]!]! |= outPairs[k + 1]!;
    }
    this.reachedCount = count;
    return state;
  }

  scan(value: string): Uint32Array {
    const bits = new Uint32Array(this.words);
    this.scanInto(value, bits, 0);
    return bits;
  }
}

/**
 * The trie with its states numbered breadth first: the shallow states, where a scan spends most of
 * its chars, get neighbouring rows of the table, not rows scattered over its megabytes (the CRS's
 * table is ~4 MB, beyond this CPU's 1 MB L2).
 */
function inBreadthFirstOrder(children: Map<number, number>[], outputs: (number[] | undefined)[]): { children: Map<number, number>[]; outputs: (number[] | undefined)[] } {
  const order = [0];
  const renumbered = new Int32Array(children.length);
  for (let q = 0; q < order.length; q++) {
    for (const child of children[order[q]!]!.values()) {
      renumbered[child] = order.length;
      order.push(child);
    }
  }
  return {
    children: order.map((old) => new Map([...children[old]!].map(([col, child]) => [col, renumbered[child]!]))),
    outputs: order.map((old) => outputs[old]),
  };
}

export function hasBit(bits: Uint32Array, offset: number, bit: number): boolean {
  return (bits[offset + (bit >>> 5)]! & (1 << (bit & 31))) !== 0;
}

/**
 * True when every one of `wanted[from..to)` is set: a rule needs one literal of each of its sets
 * (its Rule.prefilterBits, or its slice of a union plan's flat bit list).
 */
export function hasAllBits(bits: Uint32Array, offset: number, wanted: readonly number[], from = 0, to = wanted.length): boolean {
  for (let k = from; k < to; k++) if (!hasBit(bits, offset, wanted[k]!)) return false;
  return true;
}

import { describe, expect, it } from 'vitest';
import type { VarEntry } from '../types.js';
import { TxBase, TxVariables } from './tx-variables.js';

const entry = (name: string, value: string): VarEntry => ({ name: `TX:${name}`, key: name, value });
const NAMES = ['a', 'b', 'c', 'd', 'e', 'score', 'x_1', 'x_2'];
const BASE_ENTRIES: [string, VarEntry][] = ['a', 'b', 'c', 'score'].map((n) => [n, entry(n, `base-${n}`)]);

const KEY_REGEX = /^(?:b|score|x_)/m;

let seed = 11;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);

/** What a Map would show: every observable of TxVariables, to compare with the model. */
function observe(tx: TxVariables | Map<string, VarEntry>) {
  const list = tx instanceof TxVariables ? tx.list() : [...tx.values()];
  // A key regex some base names match: a slot rewritten under another spelling must be tested again.
  const matching = tx instanceof TxVariables ? (tx.matching(KEY_REGEX) ?? []) : [...tx.values()].filter((e) => KEY_REGEX.test(e.key));
  return { size: tx.size, pairs: [...tx].map(([k, e]) => [k, e.value]), list: list.map((e) => e.value), matching: matching.map((e) => e.value), has: NAMES.map((n) => tx.has(n)), get: NAMES.map((n) => tx.get(n)?.value) };
}

describe('TX variables over a shared base', () => {
  it('behave as a Map started from the same entries, order included (1,000 random runs of 30 operations)', () => {
    const base = new TxBase(BASE_ENTRIES);
    let deletesOfBase = 0;
    for (let run = 0; run < 1000; run++) {
      const tx = new TxVariables();
      const model = new Map<string, VarEntry>();
      if (run % 4 !== 0) {
        tx.startFrom(base);
        for (const [k, e] of BASE_ENTRIES) model.set(k, e);
      }
      for (let op = 0; op < 30; op++) {
        const name = NAMES[next() % NAMES.length]!;
        const kind = next() % 10;
        if (kind < 6) {
          // TX is keyed by the lower-cased name; the entry keeps the name as written (setTx).
          const e = next() % 3 === 0 ? { ...entry(name.toUpperCase(), `V${run}.${op}`) } : entry(name, `v${run}.${op}`);
          tx.set(name, e);
          model.set(name, e);
        } else if (kind < 8) {
          if (tx.has(name) && base.index.has(name)) deletesOfBase++;
          expect(tx.delete(name)).toBe(model.delete(name));
        } else if (kind === 8) {
          tx.clear();
          model.clear();
        }
        expect(observe(tx)).toEqual(observe(model));
      }
    }
    // The rare path was taken: deleting a base name, then writing it again, puts it last.
    expect(deletesOfBase).toBeGreaterThan(100);
  });

  it('never write the shared base', () => {
    const base = new TxBase(BASE_ENTRIES);
    const tx = new TxVariables();
    tx.startFrom(base);
    tx.set('score', entry('score', '5'));
    tx.delete('a');
    expect(base.slots.map((e) => e.value)).toEqual(['base-a', 'base-b', 'base-c', 'base-score']);
    const other = new TxVariables();
    other.startFrom(base);
    expect(other.get('score')?.value).toBe('base-score');
    expect(other.get('a')?.value).toBe('base-a');
  });

  it('start from a base only when empty', () => {
    const tx = new TxVariables();
    tx.set('mine', entry('mine', '1'));
    expect(() => tx.startFrom(new TxBase(BASE_ENTRIES))).toThrow(/empty/);
  });
});

import type { Rule, Selector, TransformStep } from '../types.js';
import { MAX_LITERAL, Prefilter } from '../engine/prefilter.js';
import { txCheckOf } from './tx-check.js';
import { VOLATILE } from './target-masks.js';
import { ALWAYS, triggerOf } from '../transforms/triggers.js';
import { gateLinks, type GateableLink } from './length-gates.js';

function selectorKey(sel: Selector): string {
  return `${sel.kind === 'count' ? '&' : ''}${sel.collection}:${sel.key ?? ''}:${sel.keyRegex ? `/${sel.keyRegex.source}/${sel.keyRegex.flags}` : ''}`;
}

/**
 * What each union (Rule.unionIds) selects, whatever its transformations, and which chars its
 * transformations act on: a union is then often known from its selector alone (engine/unions.ts,
 * unionFromSource). `ofUnion[u]` is union `u`'s source; `selectors[s]` the selector of source `s`,
 * undefined for a count (`&ARGS` always has a value); `chainTriggers[u]` the char classes without
 * which union `u`'s chain leaves every value's verdict as it is.
 */
export interface UnionSources {
  readonly ofUnion: Int32Array;
  readonly selectors: readonly (Selector | undefined)[];
  readonly chainTriggers: Int32Array;
}

/**
 * The classes some step of the rule's chain acts on. t:lowercase's are left out: the prefilter's
 * scan is blind to ASCII case, so a value it lower-cases keeps its verdict.
 */
function chainTrigger(rule: Rule): number {
  let trigger = 0;
  for (const name of rule.transformNames) if (name.toLowerCase() !== 'lowercase') trigger |= triggerOf(name);
  return trigger;
}

/** Per selector: the key under which rules with that selector and transformations share a union (see Rule.unionIds). */
function unionKeysOf(rule: Rule): string[] | undefined {
  // VOLATILE collections change while a phase runs: a cached union over their values would go stale.
  if (rule.targets.length === 0 || rule.targets.some((s) => VOLATILE.has(s.collection))) return undefined;
  return rule.targets.map((sel) => `${selectorKey(sel)}#${rule.transformKey}${rule.multiMatch ? '#multi' : ''}`);
}

/** A one-char literal that ordinary text is full of: a letter, a digit or a space. */
const isCommonChar = (literal: string) => literal.length === 1 && /[a-z0-9 ]/i.test(literal);

/** How often a literal of the set occurs in ordinary text, roughly: a char in twenty matches at a position. */
function occurrence(literals: readonly string[]): number {
  let p = 0;
  for (const lit of literals) p += 20 ** -Math.min(lit.length, MAX_LITERAL);
  return Math.min(1, p);
}

/**
 * New bit numbers (by old number) in order of how often their sets occur, identical sets side by
 * side. A state of the prefilter reports the bits of every literal ending there, as (word, mask)
 * pairs that the scan ORs into the value's verdict: numbered in rule order, the bits of the
 * one-char literals that ordinary text is full of lay in many words, and a 4 KB JSON body's ~2,300
 * reports wrote ~7,100 pairs; numbered this way, ~3,900.
 */
function byFrequency(perBit: readonly (readonly string[])[]): Int32Array {
  const weight = perBit.map(occurrence);
  const key = perBit.map((literals) => [...literals].sort().join('\0'));
  const order = perBit.map((_, bit) => bit).sort((a, b) => weight[b]! - weight[a]! || (key[a]! < key[b]! ? -1 : key[a]! > key[b]! ? 1 : a - b));
  const renumbered = new Int32Array(perBit.length);
  order.forEach((bit, k) => (renumbered[bit] = k));
  return renumbered;
}

/**
 * Gives every link whose operator has required literals (and is not negated: a negated operator
 * that cannot match is a match) its prefilter bit, and builds the automaton over all of them.
 */
export function planPrefilter(phases: Rule[][]): { prefilter: Prefilter; unionCount: number; nodeCount: number; unionSources: UnionSources } {
  const perBit: (readonly string[])[] = [];
  const unions = new Map<string, number>();
  const sources = new Map<string, number>();
  const sourceSelectors: (Selector | undefined)[] = [];
  const unionSource: number[] = [];
  const unionTrigger: number[] = [];
  const nodes = new Map<string, number>();
  const stepsOf = (rule: Rule): TransformStep[] => {
    let prefix = '';
    return rule.transformNames.map((name, k) => {
      prefix += `${name.toLowerCase()},`;
      let node = nodes.get(prefix);
      if (node === undefined) nodes.set(prefix, (node = nodes.size + 1));
      return { node, fn: rule.transforms[k]!, trigger: triggerOf(name) };
    });
  };
  // Every link given bits, with its list: the bits are renumbered once all are known (byFrequency).
  const withBitLists: { rule: { prefilterBit: number }; bits: number[] }[] = [];
  // Every link with transformations: their steps are gated once all nodes are known (length-gates.ts).
  const gateable: GateableLink[] = [];
  const withBits = (rule: Rule): Rule => {
    const chain = rule.chain === undefined ? undefined : withBits(rule.chain);
    const sets = rule.negated || rule.marker !== undefined ? undefined : rule.operator.literalSets;
    const prefilterBits: number[] = [];
    for (const literals of sets ?? []) {
      if (literals.length === 0) continue;
      // A further set with a one-letter literal rules out almost nothing, and its letter lights up
      // the automaton on most chars of ordinary text: the first set alone is required instead.
      if (prefilterBits.length > 0 && literals.some(isCommonChar)) continue;
      prefilterBits.push(perBit.length);
      perBit.push(literals);
    }
    const prefilterBit = prefilterBits[0] ?? -1;
    // A negated link matches the values its operator does not: no gate holds for it.
    const classGate = rule.negated || rule.marker !== undefined ? ALWAYS : (rule.operator.classGate ?? ALWAYS);
    const keys = prefilterBit >= 0 ? unionKeysOf(rule) : undefined;
    const unionIds = (keys ?? []).map((key, s) => {
      let id = unions.get(key);
      if (id === undefined) {
        unions.set(key, (id = unions.size));
        const sel = rule.targets[s]!;
        const sourceKey = selectorKey(sel);
        let source = sources.get(sourceKey);
        if (source === undefined) {
          sources.set(sourceKey, (source = sourceSelectors.length));
          sourceSelectors.push(sel.kind === 'count' ? undefined : sel);
        }
        unionSource[id] = source;
        unionTrigger[id] = chainTrigger(rule);
      }
      return id;
    });
    const transformSteps = stepsOf(rule);
    const transformNode = transformSteps.length === 0 ? 0 : transformSteps[transformSteps.length - 1]!.node;
    // The fields a rule visit reads first, then the rest (`cold`; the planned fields are given anew):
    // V8 lays an object's fields out in the order they are defined, so these share the object's
    // first cache lines (a GET evaluates ~85 rules, each a cold read in the gateway). Targets are
    // final here (SecRuleUpdateTargetById has been applied): the TX check is decided now too.
    const { marker, targets, multiMatch, operator, negated, capture, linkActions, id, log, disruptive, chain: _chain, txCheck: _txCheck, prefilterBit: _bit, prefilterBits: _bits, classGate: _gate, unionIds: _unions, transformSteps: _steps, transformNode: _node, ...cold } = rule;
    const planned = {
      marker, txCheck: txCheckOf(rule), targets, prefilterBit, unionIds, prefilterBits, classGate, transformNode, transformSteps, multiMatch, operator, negated, capture,
      chain, linkActions, id, log, disruptive,
      ...cold,
    };
    if (prefilterBits.length > 0) withBitLists.push({ rule: planned, bits: prefilterBits });
    if (transformSteps.length > 0) gateable.push(planned);
    return planned;
  };
  for (const list of phases) for (let k = 0; k < list.length; k++) list[k] = withBits(list[k]!);
  const renumbered = byFrequency(perBit);
  for (const { rule, bits } of withBitLists) {
    for (let k = 0; k < bits.length; k++) bits[k] = renumbered[bits[k]!]!;
    rule.prefilterBit = bits[0]!;
  }
  gateLinks(gateable, nodes.size + 1);
  const literalsByBit: (readonly string[])[] = [];
  perBit.forEach((literals, bit) => (literalsByBit[renumbered[bit]!] = literals));
  return {
    prefilter: new Prefilter(literalsByBit),
    unionCount: unions.size,
    nodeCount: nodes.size + 1,
    unionSources: { ofUnion: Int32Array.from(unionSource), selectors: sourceSelectors, chainTriggers: Int32Array.from(unionTrigger) },
  };
}

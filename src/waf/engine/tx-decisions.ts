import { indexAfterMatch, type RuleSet } from '../compile/ruleset.js';
import type { Macro, Rule, VarEntry } from '../types.js';
import { evaluateLink } from './evaluate.js';
import type { Transaction } from './transaction.js';

/**
 * TX checks decided at load, for transactions that took the CRS setup's fold (prefix-fold.ts).
 * The setup writes the paranoia levels, the thresholds and the enforcement switches; no rule after
 * it writes them again. So for such a transaction `TX:DETECTION_PARANOIA_LEVEL "@lt 2"` (eight of
 * them per CRS file and phase) has the same outcome in every request, known once the fold is
 * planned: the check is not evaluated, and evaluation goes on where it would have gone (the next
 * rule, or after the skipAfter marker). ~60 rule visits of a wrk GET, each a cold read of the rule,
 * its check and a TX entry in the gateway.
 *
 * A TX name is constant when no rule outside the stretch can write it: no literal setvar name,
 * no macro setvar name with the same literal prefix (920450's `tx.header_name_%{tx.0}`), and no
 * capture for `TX:0`-`TX:9`. A check is decided when it reads a constant name and, if it matches,
 * does nothing but choose where evaluation goes (no setvar or ctl, no log entry, no disruptive
 * action, no chain). MATCHED_VAR and the operator-call budget are updated as evaluating it would.
 */
export interface Decisions {
  /** Per rule index: the index evaluation goes on from (past the checks and markers that follow), or -1 when the rule is evaluated. */
  readonly next: Int32Array;
  /** The same, one rule at a time (before the runs were joined): the path `next` jumps over, for pathRemoved. */
  readonly step: Int32Array;
  /** Operator calls evaluating the checks on the way would charge. */
  readonly cost: Uint16Array;
  /** The entry the last matching check on the way makes MATCHED_VAR. */
  readonly matchedVar: readonly (VarEntry | undefined)[];
}

interface Writes {
  readonly names: Set<string>;
  /** Literal prefixes of macro names; '' means any name. */
  readonly prefixes: string[];
}

function literalPrefix(macro: Macro): string {
  let prefix = '';
  for (const part of macro) {
    if (typeof part !== 'string') break;
    prefix += part;
  }
  return prefix.toLowerCase();
}

function collectWrites(rule: Rule, writes: Writes): void {
  for (let link: Rule | undefined = rule; link !== undefined; link = link.chain) {
    for (const sv of link.setvars) {
      if (sv.collection !== 'TX') continue;
      if (sv.lowerName !== undefined) writes.names.add(sv.lowerName);
      else writes.prefixes.push(literalPrefix(sv.name));
    }
    if (link.capture) for (let k = 0; k < 10; k++) writes.names.add(String(k));
  }
}

function isConstant(name: string, writes: Writes): boolean {
  return !writes.names.has(name) && !writes.prefixes.some((prefix) => name.startsWith(prefix));
}

/**
 * Per phase, the decided TX checks for transactions that took `stretch` (phase 1, rules
 * start..end), which left `tx`. Each candidate check is evaluated once here, by the engine's own
 * evaluateLink, on a transaction holding that TX: its outcome, MATCHED_VAR and budget charge are
 * what every such request would get.
 */
export function planDecisions(ruleSet: RuleSet, stretch: { start: number; end: number }, tx: ReadonlyMap<string, VarEntry>, probe: Transaction): (Decisions | undefined)[] {
  const writes: Writes = { names: new Set(), prefixes: [] };
  ruleSet.phases.forEach((rules, phase) =>
    rules.forEach((rule, i) => {
      if (!(phase === 1 && i >= stretch.start && i < stretch.end)) collectWrites(rule, writes);
    }),
  );
  return ruleSet.phases.map((rules, phase) => {
    const next = new Int32Array(rules.length).fill(-1);
    const cost = new Uint16Array(rules.length);
    const matchedVar: (VarEntry | undefined)[] = [];
    let any = false;
    rules.forEach((rule, i) => {
      const check = rule.txCheck;
      // Before the stretch TX is not set yet; inside it nothing is evaluated.
      if (check === undefined || (phase === 1 && i < stretch.end) || !isConstant(check.key, writes)) return;
      // A matching check that does more than choose where evaluation goes is left to evaluation, as
      // is one that heads a chain (the chain reads the request). A check that does not match is
      // decided either way: `&TX:MAX_NUM_ARGS "@eq 1"` heads 920380's chain, and no limit is set.
      const inert = !rule.linkActions && !rule.log && (rule.disruptive === undefined || rule.disruptive === 'pass') && rule.chain === undefined;
      probe.tx.clear();
      for (const [name, entry] of tx) probe.tx.set(name, entry);
      probe.matchedVar = undefined;
      probe.budget = PROBE_BUDGET;
      probe.currentRule = rule;
      probe.clearMatchedVars();
      // The check alone: a chain's later links are not the check's outcome.
      const matched = evaluateLink(probe, rule.chain === undefined ? rule : { ...rule, chain: undefined });
      if (matched && !inert) return;
      next[i] = matched ? indexAfterMatch(ruleSet, phase, i) : i + 1;
      cost[i] = PROBE_BUDGET - probe.budget;
      matchedVar[i] = matched ? probe.matchedVar : undefined;
      any = true;
    });
    if (!any) return undefined;
    // A marker does nothing: evaluation goes on at the next rule.
    rules.forEach((rule, i) => {
      if (rule.marker !== undefined && !(phase === 1 && i < stretch.end)) next[i] = i + 1;
    });
    const step = next.slice();
    collapsePaths(next, cost, matchedVar);
    return { next, step, cost, matchedVar };
  });
}

/**
 * Joins runs of decided checks and markers into one jump: from each, straight to the first rule
 * the run leads to that is evaluated, with the run's summed budget charge and its last MATCHED_VAR.
 * A CRS file opens with eight paranoia-level checks and their markers: a wrk GET visited ~185
 * such rules one by one. Jumps only go forward, so walking back from the end joins each with the
 * already joined run it leads into.
 */
function collapsePaths(next: Int32Array, cost: Uint16Array, matchedVar: (VarEntry | undefined)[]): void {
  for (let i = next.length - 1; i >= 0; i--) {
    const j = next[i]!;
    if (j < 0 || j >= next.length || next[j]! < 0) continue;
    next[i] = next[j]!;
    cost[i] = cost[i]! + cost[j]!;
    matchedVar[i] = matchedVar[j] ?? matchedVar[i];
  }
}

const PROBE_BUDGET = 1_000;

/**
 * True when a `ctl` removed one of the checks the jump from `i` passes over: evaluation would skip
 * that check instead of taking its outcome. Markers do nothing either way.
 */
function pathRemoved(tx: Transaction, decisions: Decisions, rules: readonly Rule[], i: number): boolean {
  const step = decisions.step;
  for (let j = i; j < step.length && step[j]! >= 0; j = step[j]!) {
    const rule = rules[j]!;
    if (rule.marker === undefined && tx.isRuleRemoved(rule)) return true;
  }
  return false;
}

/**
 * Where evaluation goes on from rule `i` (of `rules`, the phase's list) when its check is decided
 * and nothing at run time set the decision aside (the removal of a check on its way, a TX target
 * removal, a budget about to run out); -1 otherwise. A removal elsewhere leaves it standing: every
 * JSON request removes 920540 (CRS 920539), and setting all decisions aside for that made such a
 * request evaluate ~45 more paranoia-level checks in phase 2, and in its response phases.
 */
export function takeDecision(tx: Transaction, decisions: Decisions, i: number, rules: readonly Rule[]): number {
  const next = decisions.next[i]!;
  if (next < 0) return -1;
  const cost = decisions.cost[i]!;
  if (tx.txTargetsRemoved || tx.budget < cost) return -1;
  if ((tx.removedIds.length !== 0 || tx.removedTags.size !== 0) && pathRemoved(tx, decisions, rules, i)) return -1;
  tx.budget -= cost;
  const entry = decisions.matchedVar[i];
  if (entry !== undefined) tx.matchedVar = entry;
  return next;
}

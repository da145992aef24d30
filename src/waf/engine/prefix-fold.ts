import type { Ctl, EngineMode, Macro, Rule, SetVar, VarEntry } from '../types.js';
import type { RuleSet } from '../compile/ruleset.js';
import { EvaluationCache } from './evaluation-cache.js';
import { Transaction } from './transaction.js';
import { planDecisions, type Decisions } from './tx-decisions.js';
import { TxBase } from './tx-variables.js';

/**
 * The CRS's setup at the start of phase 1 (crs-setup's SecActions, the 901 defaults: `&TX:x "@eq 0"
 * "setvar:tx.x=..."`, the score resets) reads and writes TX alone, so it leaves the same TX in every
 * request: ~26 rule visits and ~40 setvars a request, each one a macro expansion and a new entry.
 * At load the engine runs that stretch once, on a transaction with no request, and keeps the TX it
 * leaves; a request whose TX is still empty when it gets there takes that TX (the entries are
 * immutable and shared) and goes on after the stretch.
 *
 * The stretch is found by running it: from the first rule that qualifies, in evaluation order
 * (following skipAfter, so the paranoia-level skips are part of it), up to the first rule that does
 * not. A rule qualifies when it is a marker, an inline TX check (compile/tx-check.ts) or a SecAction,
 * whose actions are setvars on TX from TX and rule macros and ctls that remove rules or set the
 * engine mode (crs-setup's and the regression suite's settings use both), with no capture, and (on
 * a match) no log entry and no disruptive action: its effect is then a function of TX alone, and
 * the fold replays the removals and the mode along with TX.
 */
export interface PrefixFold {
  readonly phase: number;
  /** Index of the stretch's first rule in the phase's list, and where evaluation goes on after it. */
  readonly start: number;
  readonly end: number;
  /** TX at the end, by lower-cased name. */
  readonly tx: readonly (readonly [string, VarEntry])[];
  /** The same, as the base a transaction that takes the fold starts its TX from (engine/tx-variables.ts). */
  readonly txBase: TxBase;
  /** MATCHED_VAR after the stretch, when one of its rules matched. */
  readonly matchedVar: VarEntry | undefined;
  /** Operator calls the stretch spends (the transaction's budget is charged the same). */
  readonly budget: number;
  /** The engine mode the plan started from, and the stretch's ctl effects. */
  readonly startMode: EngineMode;
  readonly engineMode: EngineMode;
  readonly removedIds: readonly (readonly [number, number])[];
  readonly removedTags: readonly string[];
  /** Per phase, the TX checks decided for a transaction that took the fold (tx-decisions.ts). */
  readonly decisions: readonly (Decisions | undefined)[];
}

const REPLAYED_CTLS = new Set<Ctl['kind']>(['ruleRemoveById', 'ruleRemoveByTag', 'ruleEngine']);

const FOLD_PHASE = 1;
/** A budget no stretch can exhaust: the stretch's use is what is measured. */
const PLAN_BUDGET = 1_000_000;

function macroReadsTxOnly(macro: Macro): boolean {
  return macro.every((part) => typeof part === 'string' || part.collection === 'TX' || part.collection === 'RULE');
}

function setvarFoldable(sv: SetVar): boolean {
  return sv.collection === 'TX' && macroReadsTxOnly(sv.name) && macroReadsTxOnly(sv.value);
}

function foldable(rule: Rule): boolean {
  if (rule.marker !== undefined) return true;
  if (rule.txCheck === undefined && !(rule.targets.length === 0 && rule.operatorName === 'unconditionalMatch')) return false;
  if (rule.capture || !rule.ctls.every((ctl) => REPLAYED_CTLS.has(ctl.kind)) || !rule.setvars.every(setvarFoldable)) return false;
  return rule.chain === undefined || foldable(rule.chain);
}

/**
 * Runs the phase's qualifying stretch on an empty transaction, with the engine's own rule step
 * (`evaluate` returns the next index, or undefined when the rule did something a fold cannot
 * replay); undefined when there is no stretch.
 */
export function planPrefixFold(ruleSet: RuleSet, evaluate: (tx: Transaction, index: number) => number | undefined): PrefixFold | undefined {
  const rules = ruleSet.phases[FOLD_PHASE] ?? [];
  const start = rules.findIndex((rule) => rule.marker === undefined && foldable(rule));
  if (start < 0) return undefined;
  const tx = new Transaction(ruleSet.engineMode, PLAN_BUDGET, new EvaluationCache(ruleSet));
  let i = start;
  while (i < rules.length && foldable(rules[i]!)) {
    const next = evaluate(tx, i);
    if (next === undefined || tx.matches.length > 0 || tx.interruption !== undefined || tx.allowedThrough !== 0 || tx.engineMode === 'Off') return undefined;
    i = next;
  }
  // A stretch of one rule saves nothing worth the check.
  if (i - start < 2) return undefined;
  return {
    phase: FOLD_PHASE,
    start,
    end: i,
    tx: [...tx.tx],
    txBase: new TxBase(tx.tx),
    matchedVar: tx.matchedVar,
    budget: PLAN_BUDGET - tx.budget,
    startMode: ruleSet.engineMode,
    engineMode: tx.engineMode,
    removedIds: [...tx.removedIds],
    removedTags: [...tx.removedTags],
    decisions: planDecisions(ruleSet, { start, end: i }, new Map(tx.tx), tx),
  };
}

/**
 * True when the transaction is where the plan's run began: TX empty, nothing removed or excluded
 * at run time, the engine mode unchanged, budget enough. Rules before the stretch (the CRS's
 * body-processor rules) may have matched; they cannot have changed what the stretch reads.
 */
export function canApplyFold(tx: Transaction, fold: PrefixFold): boolean {
  return (
    tx.tx.size === 0 &&
    tx.engineMode === fold.startMode &&
    tx.removedIds.length === 0 &&
    tx.removedTags.size === 0 &&
    tx.removedTargets.length === 0 &&
    tx.budget >= fold.budget &&
    tx.interruption === undefined &&
    tx.allowedThrough === 0
  );
}

/** Puts the stretch's effect on the transaction; returns the index evaluation goes on from. */
export function applyFold(tx: Transaction, fold: PrefixFold): number {
  tx.tx.startFrom(fold.txBase);
  if (fold.matchedVar !== undefined) tx.matchedVar = fold.matchedVar;
  tx.removedIds.push(...fold.removedIds);
  for (const tag of fold.removedTags) tx.removedTags.add(tag);
  tx.engineMode = fold.engineMode;
  tx.budget -= fold.budget;
  tx.folded = true;
  return fold.end;
}

import type { Macro, Rule } from '../types.js';
import type { RuleSet } from '../compile/ruleset.js';
import { compileMacro } from './macro.js';
import type { Transaction } from './transaction.js';

/**
 * What the response phases (3-5) of a rule set can read, by collection or variable name: their
 * targets, and the macros in their messages, setvars and operator parameters. With the CRS: TX,
 * RESPONSE_*, MATCHED_VAR_NAME.
 */
export function responseReads(ruleSet: RuleSet): ReadonlySet<string> {
  return readsOf(ruleSet, [3, 4, 5]);
}

/**
 * What populate builds only for rules that read it: the `*_NAMES` views, and ARGS_POST, whose
 * entries ARGS repeats (the CRS reads neither ARGS_POST nor its names: a 4 KB JSON body's ~230
 * entries, names included, were built for nothing).
 */
const VIEWS = ['REQUEST_HEADERS_NAMES', 'REQUEST_COOKIES_NAMES', 'ARGS_GET_NAMES', 'ARGS_POST_NAMES', 'ARGS_NAMES', 'FILES_NAMES', 'RESPONSE_HEADERS_NAMES', 'ARGS_POST'];

/** The views no rule of any phase reads (Transaction.unreadViews); ARGS_POST is read when its names are. */
export function unreadViews(ruleSet: RuleSet): ReadonlySet<string> {
  const reads = readsOf(ruleSet, [1, 2, 3, 4, 5]);
  const read = (name: string) => reads.has(name) || (name === 'ARGS_POST' && reads.has('ARGS_POST_NAMES'));
  return new Set(VIEWS.filter((name) => !read(name)));
}

/** What the rules of `phases` can read, by collection or variable name (see responseReads). */
function readsOf(ruleSet: RuleSet, phases: readonly number[]): ReadonlySet<string> {
  const reads = new Set<string>();
  const addMacro = (macro: Macro | undefined) => {
    for (const part of macro ?? []) if (typeof part !== 'string') reads.add(part.collection);
  };
  for (const phase of phases) {
    for (const head of ruleSet.phases[phase] ?? []) {
      for (let link: Rule | undefined = head; link !== undefined; link = link.chain) {
        for (const target of link.targets) reads.add(target.collection);
        addMacro(link.msg);
        addMacro(link.logdata);
        for (const sv of link.setvars) {
          addMacro(sv.name);
          addMacro(sv.value);
        }
        addMacro(compileMacro(link.operatorParam));
      }
    }
  }
  return reads;
}

/**
 * Trims a transaction before it waits for the response: the last rule's matched values, and the
 * request collections and variables no response rule reads (`reads`, from responseReads). Why
 * bother: a transaction held across the upstream call survives young-generation collections, so
 * whatever it holds is copied and then promoted to the old generation (the per-call caches live in
 * the engine for the same reason, see evaluation-cache.ts; unlogged matches are not recorded at all,
 * see evaluate.ts `onMatch`). A CRS GET's parked transaction holds TX and little else.
 */
export function trimForResponse(tx: Transaction, reads: ReadonlySet<string>): void {
  tx.forgetMatches();
  tx.collections.retainOnly(reads);
  tx.scalars.retainOnly(reads);
}

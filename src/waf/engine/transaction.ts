import type { EngineMode, Exclusion, Macro, OperatorContext, Rule, RuleMatch, Selector, VarEntry } from '../types.js';
import { Collection, COLLECTION_SLOTS, NO_ENTRIES } from '../variables/collection.js';
import { SlotMap } from '../variables/slot-map.js';
import { Scalars, scalarSlot } from '../variables/scalars.js';
import { inRanges } from '../compile/targets.js';
import type { EvaluationCache } from './evaluation-cache.js';
import { TxVariables } from './tx-variables.js';
import { Entry, namedEntry } from '../variables/entry.js';

export interface Interruption {
  readonly ruleId: number;
  readonly status: number;
  readonly action: string;
}

interface TargetRemoval {
  readonly ranges: readonly (readonly [number, number])[] | undefined;
  readonly tag: string | undefined;
  readonly target: Exclusion;
  /** `[target]`, built once when the ctl runs: the list a rule gets when this is the only removal that applies to it. */
  readonly alone: readonly Exclusion[];
}

/** Per-request state: collections, TX, what matched, and the `ctl` changes rules made. */
export class Transaction implements OperatorContext {
  /** By name, populate's in fixed slots (variables/slot-map.ts); trimmed when the transaction is parked (engine/park.ts). */
  readonly collections = new SlotMap<Collection>(COLLECTION_SLOTS);
  readonly scalars = new Scalars();
  /** TX by lower-cased name; the entry keeps the name as first written. */
  readonly tx = new TxVariables();
  /** Other persistent collections (IP, GLOBAL, SESSION): kept per transaction only. */
  readonly other = new Map<string, string>();
  readonly matches: RuleMatch[] = [];
  readonly removedIds: (readonly [number, number])[] = [];
  readonly removedTags = new Set<string>();
  readonly removedTargets: TargetRemoval[] = [];
  /** True once a `ctl` removed a TX target: until then TX checks need not look at runtime exclusions. */
  txTargetsRemoved = false;
  engineMode: EngineMode;
  bodyProcessor: string | undefined = undefined;
  /** ctl:forceRequestBodyVariable: REQUEST_BODY is filled even when no URLENCODED processor ran. */
  forceRequestBody = false;
  interruption: Interruption | undefined = undefined;
  /**
   * The last phase an `allow` covers: its rules, and those of every phase before it, are skipped
   * (0: none; 4 after a plain `allow`, 2 after `allow:request`, the current one after `allow:phase`).
   * The logging phase (5) always runs.
   */
  allowedThrough = 0;
  /** Set when the CRS setup's fold was applied (engine/prefix-fold.ts): its TX checks decided at load apply. */
  folded = false;
  matchedVar: VarEntry | undefined = undefined;
  /**
   * MATCHED_VARS of the rule being evaluated: the first `matchedCount` entries of a list reused from
   * rule to rule (a fresh array per matching rule was most of a GET's garbage: ~90 rules match).
   */
  private matched: VarEntry[] = [];
  private matchedCount = 0;
  currentRule: Rule | undefined = undefined;
  /** The engine's memo of the evaluation call running (engine/evaluation-cache.ts): set at each call. */
  cache: EvaluationCache;
  /** The views (`*_NAMES`, ARGS_POST) no rule of the rule set reads: populate does not build them (WafEngine). */
  unreadViews: ReadonlySet<string> = NO_NAMES;
  /** False runs every operator on every value (the prefilter's equivalence test, and measurements). */
  usePrefilter = true;
  /** When set, microseconds spent per rule id are added here (bench and `waf:crs --profile`). */
  profile: Map<number, number> | undefined = undefined;
  /** Operator calls left in this transaction's budget (see WafEngineOptions.maxOperatorCalls). */
  budget: number;

  constructor(engineMode: EngineMode, budget: number, cache: EvaluationCache) {
    this.engineMode = engineMode;
    this.budget = budget;
    this.cache = cache;
  }

  /** Records a matched value: MATCHED_VAR, and one more of MATCHED_VARS. */
  addMatchedVar(entry: VarEntry): void {
    this.matchedVar = entry;
    this.matched[this.matchedCount++] = entry;
  }

  /** Each rule starts with no MATCHED_VARS (MATCHED_VAR stays: it is the last match of any rule). */
  clearMatchedVars(): void {
    this.matchedCount = 0;
  }

  get matchedVars(): readonly VarEntry[] {
    return this.matched.slice(0, this.matchedCount);
  }

  /** Lets go of every matched value (a transaction about to wait for its response: engine/park.ts). */
  forgetMatches(): void {
    this.matched = [];
    this.matchedCount = 0;
    this.matchedVar = undefined;
  }

  collection(name: string): Collection {
    let c = this.collections.get(name);
    if (c === undefined) {
      c = new Collection(name);
      this.collections.set(name, c);
    }
    return c;
  }

  /**
   * Sets TX `name`; `lower` is its lower-cased form and `entryName` its `TX:name` when the caller
   * knows them (setvar names are folded at compile time).
   */
  setTx(name: string, value: string, lower = name.toLowerCase(), entryName?: string): void {
    // The CRS sets ~50 variables a request, several times some: the `TX:name` string is built when read.
    this.tx.set(lower, new Entry('TX', name, value, entryName));
  }

  getTx(name: string): string | undefined {
    return this.tx.get(name.toLowerCase())?.value;
  }

  setCaptures(groups: readonly (string | undefined)[]): void {
    for (let k = 0; k < groups.length && k < 10; k++) this.setTx(CAPTURE_NAMES[k]!, groups[k] ?? '', CAPTURE_NAMES[k], CAPTURE_ENTRY_NAMES[k]);
  }

  isRuleRemoved(rule: Rule): boolean {
    if (this.removedIds.length > 0 && inRanges(rule.id, this.removedIds)) return true;
    if (this.removedTags.size > 0) for (const tag of rule.tags) if (this.removedTags.has(tag)) return true;
    return false;
  }

  /** Every value a selector names, before exclusions. */
  select(sel: Selector): readonly VarEntry[] {
    if (sel.kind !== 'count') return this.entriesOf(sel.collection, sel.key, sel.keyRegex, sel.scalarSlot, sel.collectionSlot);
    const n = this.countOf(sel);
    return sel.countLists[n] ?? [namedEntry(sel.countName, sel.key ?? '', String(n))];
  }

  /** How many values a count selector (`&TX:x`, `&ARGS`) counts, without a list for TX names. */
  private countOf(sel: Selector): number {
    if (sel.collection === 'TX' && sel.key !== undefined && sel.keyRegex === undefined) return this.tx.has(sel.key) ? 1 : 0;
    return this.entriesOf(sel.collection, sel.key, sel.keyRegex, sel.scalarSlot, sel.collectionSlot).length;
  }

  /** `slot`, `collSlot`: the collection's scalarSlot and collectionSlot, when the caller knows them (a selector does). */
  private entriesOf(
    collection: string,
    key: string | undefined,
    keyRegex: RegExp | undefined,
    slot = scalarSlot(collection),
    collSlot = COLLECTION_SLOTS.slotOf(collection),
  ): readonly VarEntry[] {
    let all: readonly VarEntry[];
    if (collection === 'TX' && key !== undefined && keyRegex === undefined) {
      // The CRS reads TX by name in most of its rules: a map lookup, no copy of the collection.
      const entry = this.tx.get(key);
      return entry === undefined ? NO_ENTRIES : [entry];
    }
    if (collection === 'TX') {
      // `TX:/^header_name_920450_/` (run per request header) and 922110's: no copy of ~50 entries to filter.
      // A snapshot: the rule's actions may change TX while its values are walked.
      if (keyRegex === undefined) return this.tx.list();
      return this.tx.matching(keyRegex) ?? NO_ENTRIES;
    }
    // `matchedVars` is already a copy.
    if (collection === 'MATCHED_VARS' && key === undefined && keyRegex === undefined) return this.matchedVars;
    if (collection === 'MATCHED_VARS') all = this.matchedVars;
    else if (collection === 'MATCHED_VARS_NAMES') all = this.matchedVars.map((e) => new Entry('MATCHED_VARS_NAMES', e.name, e.name));
    else if (collection === 'MATCHED_VAR') all = this.matchedVar ? [namedEntry('MATCHED_VAR', '', this.matchedVar.value)] : [];
    else if (collection === 'MATCHED_VAR_NAME') all = this.matchedVar ? [namedEntry('MATCHED_VAR_NAME', '', this.matchedVar.name)] : [];
    else {
      const scalar = this.scalars.selectionAt(slot, collection);
      if (scalar !== undefined) return scalar;
      const c = this.collections.getAt(collSlot, collection);
      // Most selections name what a request lacks (XML, FILES, a header): the shared empty list.
      if (c === undefined) return NO_ENTRIES;
      if (keyRegex !== undefined) return c.byRegex(keyRegex);
      return key === undefined ? c.entries : c.byKey(key);
    }
    if (keyRegex !== undefined) return all.filter((e) => keyRegex.test(e.key));
    return key === undefined ? [...all] : all.filter((e) => e.key.toLowerCase() === key);
  }

  /** The target exclusions `ctl` added at run time that apply to this rule. */
  runtimeExclusions(rule: Rule): readonly Exclusion[] {
    // Asked for every rule, and the CRS adds one for every request (941010, which then applies to
    // every XSS rule): allocate only when more than one applies.
    const all = this.removedTargets;
    for (let i = 0; i < all.length; i++) {
      if (!appliesTo(all[i]!, rule)) continue;
      for (let k = i + 1; k < all.length; k++) if (appliesTo(all[k]!, rule)) return all.filter((x) => appliesTo(x, rule)).map((x) => x.target);
      return all[i]!.alone;
    }
    return NONE;
  }

  /** True when the rule's own `!` exclusions or the run-time ones remove the entry of `sel` with this key. */
  isExcluded(rule: Rule, sel: Selector, key: string, runtime: readonly Exclusion[]): boolean {
    return excluded(rule.exclusions, sel.collection, key) || excluded(runtime, sel.collection, key);
  }

  /** Resolves one macro reference (`%{tx.x}`, `%{REQUEST_HEADERS.host}`, `%{rule.id}`). */
  resolve(collection: string, key: string | undefined): string {
    // Macro keys are lower-cased at compile time (engine/macro.ts).
    if (collection === 'TX') return key === undefined ? '' : (this.tx.get(key)?.value ?? '');
    if (collection === 'RULE') return key === 'id' ? String(this.currentRule?.id ?? '') : '';
    if (collection === 'MATCHED_VAR') return this.matchedVar?.value ?? '';
    if (collection === 'MATCHED_VAR_NAME') return this.matchedVar?.name ?? '';
    const other = this.other.get(`${collection}.${key}`);
    if (other !== undefined) return other;
    return this.entriesOf(collection, key, undefined)[0]?.value ?? '';
  }

  expand(macro: Macro): string {
    let out = '';
    for (const part of macro) out += typeof part === 'string' ? part : this.resolve(part.collection, part.key);
    return out;
  }
}

const NONE: readonly Exclusion[] = [];
/** `TX:0` .. `TX:9`: capture names as strings once, not per capture. */
const NO_NAMES: ReadonlySet<string> = new Set();
const CAPTURE_NAMES = Array.from({ length: 10 }, (_, k) => String(k));
const CAPTURE_ENTRY_NAMES = CAPTURE_NAMES.map((name) => `TX:${name}`);

function appliesTo(removal: TargetRemoval, rule: Rule): boolean {
  return removal.ranges ? inRanges(rule.id, removal.ranges) : rule.tags.includes(removal.tag!);
}

function excluded(list: readonly Exclusion[], collection: string, key: string): boolean {
  for (const ex of list) {
    if (ex.collection !== collection) continue;
    if (ex.key === undefined && ex.keyRegex === undefined) return true;
    if (ex.keyRegex !== undefined ? ex.keyRegex.test(key) : ex.key === key.toLowerCase()) return true;
  }
  return false;
}

/** Shared shapes of the WAF engine: compiled rules and the values rules look at. */

/** One value a rule inspects: `name` is what MATCHED_VAR_NAME reports (`ARGS:id`, `REQUEST_URI`). */
export interface VarEntry {
  readonly name: string;
  readonly key: string;
  readonly value: string;
}

/** One step of a rule's transformation chain: the node is the chain prefix ending here (0: no transformation). */
export interface TransformStep {
  readonly node: number;
  readonly fn: Transform;
  /** Char classes without which `fn` returns its input (transforms/triggers.ts). */
  readonly trigger: number;
}

/** A target selector after compilation: `ARGS`, `ARGS:id`, `ARGS:/re/`, `&TX:x`. */
export interface Selector {
  readonly collection: string;
  readonly key: string | undefined;
  readonly keyRegex: RegExp | undefined;
  /** What MATCHED_VAR_NAME reports for a count (`&ARGS`, `&TX:x`). */
  readonly countName: string;
  /** How the engine reads it, decided at compile time (compile/targets.ts): no per-evaluation tests of its fields. */
  readonly kind: SelectorKind;
  /**
   * For a count: the one-entry lists a count of 0, 1, ... selects, built at compile time (entries
   * are immutable and hold no request data), so counting allocates nothing.
   */
  readonly countLists: readonly (readonly VarEntry[])[];
  /** The collection's slot among the scalars (variables/scalars.ts), or -1: found at load, not per read. */
  readonly scalarSlot: number;
  /** Its slot among a transaction's collections (variables/collection.ts COLLECTION_SLOTS), or -1. */
  readonly collectionSlot: number;
}

/**
 * `txKey`: `TX:name` (one map lookup, most CRS rules); `count`: `&X`, `&X:key`; `keyed`: a key or
 * key regex of any other collection; `whole`: a collection, scalar or computed variable read whole.
 */
export type SelectorKind = 'txKey' | 'count' | 'keyed' | 'whole';

/** `!ARGS:foo` on a rule, `SecRuleUpdateTargetById`, or `ctl:ruleRemoveTargetById`. */
export interface Exclusion {
  readonly collection: string;
  readonly key: string | undefined;
  readonly keyRegex: RegExp | undefined;
}

/** A string with `%{...}` macros, compiled to literal parts and variable references. */
export type Macro = readonly (string | { readonly collection: string; readonly key: string | undefined })[];

export type Transform = (input: string) => string;

export interface OperatorContext {
  /** Expands a macro in the operator's parameter (`@within %{tx.allowed_methods}`). */
  expand(macro: Macro): string;
  /** Captures (`TX:0` .. `TX:9`) when the rule has `capture`. */
  setCaptures(groups: readonly (string | undefined)[]): void;
}

/**
 * A compiled operator: true when it matches (before negation). `literalSets`, when set: for each set,
 * one of its literals (ASCII lower-case) occurs in the ASCII-lower-cased input of every match (the
 * prefilter's key, engine/prefilter.ts).
 */
export type OperatorFn = ((ctx: OperatorContext, input: string, capture: boolean) => boolean) & {
  readonly literalSets?: readonly (readonly string[])[];
  /** Char classes (transforms/triggers.ts) one of which a value must hold for the operator to match; absent: any value may. */
  readonly classGate?: number;
  /** A numeric comparison with a literal operand (`@lt 2`): what engine/evaluate.ts evaluates inline on TX checks. */
  readonly comparison?: Comparison;
  /** No input shorter than this matches (before negation); absent: no bound known (compile/length-gates.ts). */
  readonly minLength?: number;
};

/** `@eq`/`@ge`/`@gt`/`@le`/`@lt` against a literal, converted once (ModSecurity's atoi). */
export interface Comparison {
  readonly op: 'eq' | 'ge' | 'gt' | 'le' | 'lt';
  readonly n: number;
}

export interface SetVar {
  readonly collection: string;
  readonly name: Macro;
  /** The name when it has no macro (nearly always), and its lower-cased form: no case folding per run. */
  readonly literalName: string | undefined;
  readonly lowerName: string | undefined;
  /** `TX:name` for a literal name: the entry's MATCHED_VAR_NAME, built once rather than per request. */
  readonly entryName: string | undefined;
  readonly op: 'set' | 'add' | 'sub' | 'delete';
  readonly value: Macro;
}

export type Ctl =
  | { readonly kind: 'ruleRemoveById'; readonly ranges: readonly (readonly [number, number])[] }
  | { readonly kind: 'ruleRemoveByTag'; readonly tag: string }
  | { readonly kind: 'ruleRemoveTargetById'; readonly ranges: readonly (readonly [number, number])[]; readonly target: Exclusion }
  | { readonly kind: 'ruleRemoveTargetByTag'; readonly tag: string; readonly target: Exclusion }
  | { readonly kind: 'ruleEngine'; readonly value: EngineMode }
  | { readonly kind: 'requestBodyProcessor'; readonly value: string }
  | { readonly kind: 'forceRequestBodyVariable'; readonly value: boolean }
  | { readonly kind: 'ignored' };

export type EngineMode = 'On' | 'Off' | 'DetectionOnly';
/**
 * `allow` alone allows the rest of the transaction (the logging phase still runs), `allow:request`
 * the rest of the request phases, `allow:phase` the rest of the current phase (ModSecurity's
 * reference manual, `allow`).
 */
export type Disruptive = 'pass' | 'block' | 'deny' | 'drop' | 'allow' | 'allow:request' | 'allow:phase' | 'redirect';

export interface Rule {
  readonly id: number;
  readonly phase: number;
  readonly where: string;
  readonly targets: readonly Selector[];
  readonly exclusions: Exclusion[];
  readonly operatorName: string;
  /** The operator's parameter as written (macros unresolved): what it may read (engine/park.ts). */
  readonly operatorParam: string;
  readonly negated: boolean;
  readonly operator: OperatorFn;
  readonly transforms: readonly Transform[];
  readonly transformNames: readonly string[];
  /** The transformation chain as one string: the key of the per-transaction transformation cache. */
  readonly transformKey: string;
  readonly multiMatch: boolean;
  readonly capture: boolean;
  readonly chain: Rule | undefined;
  /** True when the link has setvars or ctls to run on a match: most matched links have none, and this is read instead of two arrays. */
  readonly linkActions: boolean;
  readonly setvars: readonly SetVar[];
  readonly ctls: readonly Ctl[];
  readonly disruptive: Disruptive | undefined;
  readonly status: number | undefined;
  readonly log: boolean;
  readonly skip: number;
  readonly skipAfter: string | undefined;
  readonly tags: readonly string[];
  readonly msg: Macro | undefined;
  readonly logdata: Macro | undefined;
  readonly severity: string | undefined;
  /** This link's bits in the rule set's literal prefilter (one per literal set, all needed), or -1 when its operator has none (or is negated). */
  readonly prefilterBit: number;
  readonly prefilterBits: readonly number[];
  /**
   * The operator's class gate, or ALWAYS (every value passes: each holds ANY) for an operator
   * without one or a negated link: a value whose char classes miss it cannot match.
   */
  readonly classGate: number;
  /**
   * Per selector, the id of (that selector, this transformation chain), shared by every rule with
   * the same pair, when every selected collection is fixed for a phase (not TX, MATCHED_*,
   * REQBODY_PROCESSOR): where the union of the values' prefilter verdicts is cached for the phase.
   * Empty otherwise (and for rules without a prefilter).
   */
  readonly unionIds: readonly number[];
  /** The transformation chain as prefix nodes shared across the rule set; `transformNode` is the last (0: none). */
  readonly transformSteps: readonly TransformStep[];
  readonly transformNode: number;
  /** Set for a `SecMarker` placeholder: rules never match, `skipAfter` lands after it. */
  readonly marker: string | undefined;
  /** Set when the link is a TX check the engine evaluates inline (compile/tx-check.ts). */
  readonly txCheck: TxCheck | undefined;
}

/** A link whose only target is `TX:name` or `&TX:name`, compared with a literal number, untransformed. */
export interface TxCheck {
  readonly selector: Selector;
  /** The selector's and comparison's fields, copied: one object to read per check (no pointer chasing). */
  readonly key: string;
  readonly count: boolean;
  readonly op: Comparison['op'];
  readonly n: number;
  /** For a count: the entries a count of 0 and of 1 stand for (MATCHED_VAR), read only on a match. */
  readonly zeroEntry: VarEntry | undefined;
  readonly oneEntry: VarEntry | undefined;
}

/** What one rule did in a transaction: what the decision log and the regression suite read. */
export interface RuleMatch {
  readonly id: number;
  readonly phase: number;
  readonly msg: string;
  readonly data: string;
  readonly severity: string | undefined;
  readonly tags: readonly string[];
  readonly variable: string;
  /** False for `nolog` rules: they matched, but ModSecurity would not write them to the error log. */
  readonly logged: boolean;
}

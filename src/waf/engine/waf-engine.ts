import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { lexSecLang, type Directive } from '../seclang/lexer.js';
import { compileRuleSet, type RuleSet } from '../compile/ruleset.js';
import type { WafRequest, WafResponse } from '../request.js';
import { populateRequestBody, populateRequestHeaders, populateResponse } from '../variables/populate.js';
import { foldStep, runPhase } from './run-phase.js';
import { LOGGING_PHASE } from './evaluate.js';
import { planPrefixFold, type PrefixFold } from './prefix-fold.js';
import { Transaction } from './transaction.js';
import { EvaluationCache } from './evaluation-cache.js';
import { responseReads, trimForResponse, unreadViews } from './park.js';

/**
 * The body-processor rules of ModSecurity's modsecurity.conf-recommended: the CRS assumes them.
 * Loaded before the CRS setup file, as in every ModSecurity and Coraza deployment. 200000 and
 * 200001 choose the XML and JSON processors, 200006 JSON for the `+json` types too (commented out
 * in the recommended file: on here, so a route that allows `application/vnd.api+json` has its
 * bodies read, not passed as unparsed bytes); 200002 refuses (400) a body its processor could not
 * parse: its arguments were not all read, and a lenient parser upstream (comments, trailing commas,
 * NaN) may read what the rules never saw; 200003 refuses (400) a multipart body that failed strict
 * validation (a part without headers or Content-Disposition, which the parser skips uninspected, or
 * no closing delimiter). A route that must accept such bodies excludes 200002 or 200003.
 * (200004, an unmatched boundary, is left out: the multipart reader never reports one.)
 */
export const RECOMMENDED_PREAMBLE = `
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" "id:200006,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation.'"
`;

/** The preamble's rules that refuse a body its processor could not read whole, and why, for the decision log. */
export const BODY_ERROR_RULES: ReadonlyMap<number, string> = new Map([
  [200002, 'the body could not be parsed'],
  [200003, 'the multipart body failed strict validation (a part without headers or Content-Disposition, or no closing delimiter)'],
]);

export interface CrsLocation {
  /** The CRS folder: holds `rules/` and `crs-setup.conf` (or `crs-setup.conf.example`). */
  readonly crsDir: string;
  /** SecLang appended after the setup file, before the rules: paranoia level, thresholds. */
  readonly settings?: string;
  /** SecLang appended after the rules: exclusions (`SecRuleRemoveById`, `SecRuleUpdateTargetById`). */
  readonly afterRules?: string;
}

export interface WafEngineOptions {
  /** Operator evaluations a transaction may spend before it is stopped (a bound on CPU per request). */
  readonly maxOperatorCalls: number;
  /** Bytes of a response body the response rules see. */
  readonly responseBodyLimit: number;
}

export const DEFAULT_ENGINE_OPTIONS: WafEngineOptions = { maxOperatorCalls: 200_000, responseBodyLimit: 512 * 1024 };

function directivesOfFile(file: string): Directive[] {
  return lexSecLang(readFileSync(file, 'latin1'), file);
}

/** Reads the CRS the way its INSTALL tells ModSecurity to: setup first, then rules/*.conf in name order. */
export function loadCrsDirectives(loc: CrsLocation): Directive[] {
  const setupReal = path.join(loc.crsDir, 'crs-setup.conf');
  let setup: Directive[];
  try {
    setup = directivesOfFile(setupReal);
  } catch {
    setup = directivesOfFile(`${setupReal}.example`);
  }
  const rulesDir = path.join(loc.crsDir, 'rules');
  const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.conf')).sort();
  return [
    ...lexSecLang(RECOMMENDED_PREAMBLE, '<recommended>'),
    ...setup,
    ...lexSecLang(loc.settings ?? '', '<settings>'),
    ...ruleFiles.flatMap((f) => directivesOfFile(path.join(rulesDir, f))),
    ...lexSecLang(loc.afterRules ?? '', '<exclusions>'),
  ];
}

export interface RequestVerdict {
  readonly tx: Transaction;
}

export class WafEngine {
  /** Shared by this engine's transactions, one evaluation call at a time (see EvaluationCache). */
  private readonly cache: EvaluationCache;
  /** What the response rules read: all a parked transaction needs to keep (engine/park.ts). */
  private readonly responseReads: ReadonlySet<string>;
  /** The views (`*_NAMES`, ARGS_POST) no rule reads: its transactions do not build them. */
  private readonly unreadViews: ReadonlySet<string>;
  /** The CRS setup's TX, computed once (engine/prefix-fold.ts); undefined when the rules have no such stretch. */
  readonly prefixFold: PrefixFold | undefined;

  constructor(
    readonly ruleSet: RuleSet,
    readonly options: WafEngineOptions = DEFAULT_ENGINE_OPTIONS,
  ) {
    this.cache = new EvaluationCache(ruleSet);
    this.responseReads = responseReads(ruleSet);
    this.unreadViews = unreadViews(ruleSet);
    this.prefixFold = planPrefixFold(ruleSet, (tx, i) => foldStep(tx, ruleSet, 1, i));
  }

  /** Trims a transaction whose request phases passed, before it waits for the response (engine/park.ts). */
  parkForResponse(tx: Transaction): void {
    trimForResponse(tx, this.responseReads);
  }

  static fromCrs(loc: CrsLocation, options: WafEngineOptions = DEFAULT_ENGINE_OPTIONS): WafEngine {
    return new WafEngine(compileRuleSet(loadCrsDirectives(loc)), options);
  }

  /** Phases 1 and 2. May throw BudgetExceededError; the transaction so far is on the error's caller side. */
  evaluateRequest(req: WafRequest, tx = this.newTransaction()): Transaction {
    tx.cache = this.cache;
    try {
      populateRequestHeaders(tx, req);
      runPhase(tx, this.ruleSet, 1, this.prefixFold);
      if (tx.interruption !== undefined) return tx;
      populateRequestBody(tx, req);
      runPhase(tx, this.ruleSet, 2, this.prefixFold);
      return tx;
    } finally {
      this.cache.reset();
    }
  }

  /** Phases 3 and 4 on a transaction whose request phases ran. */
  evaluateResponse(tx: Transaction, res: WafResponse): Transaction {
    tx.cache = this.cache;
    try {
      populateResponse(tx, res, this.options.responseBodyLimit);
      runPhase(tx, this.ruleSet, 3, this.prefixFold);
      runPhase(tx, this.ruleSet, 4, this.prefixFold);
      return tx;
    } finally {
      this.cache.reset();
    }
  }

  /**
   * Phase 5 (logging), once the exchange is over: runs on any transaction, blocked, allowed or
   * parked, and cannot change the decision (run-phase.ts). Its logged matches are the CRS's
   * score report (980170) and the rules users add there.
   */
  evaluateLogging(tx: Transaction): Transaction {
    tx.cache = this.cache;
    try {
      runPhase(tx, this.ruleSet, LOGGING_PHASE, this.prefixFold);
      return tx;
    } finally {
      this.cache.reset();
    }
  }

  /** An engine from SecLang text alone (tests, and users with their own rules). */
  static fromSecLang(text: string, options: WafEngineOptions = DEFAULT_ENGINE_OPTIONS, file = '<inline>'): WafEngine {
    return new WafEngine(compileRuleSet(lexSecLang(text, file)), options);
  }

  newTransaction(): Transaction {
    const tx = new Transaction(this.ruleSet.engineMode, this.options.maxOperatorCalls, this.cache);
    tx.unreadViews = this.unreadViews;
    return tx;
  }
}

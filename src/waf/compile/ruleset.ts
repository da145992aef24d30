import path from 'node:path';
import type { Directive } from '../seclang/lexer.js';
import { parseActions } from '../seclang/actions-parse.js';
import { parseOperator, parseVariables } from '../seclang/variables-parse.js';
import type { Disruptive, EngineMode, Exclusion, Rule, Selector } from '../types.js';
import { compileOperator } from '../operators/index.js';
import { interpretActions, parsePhase, type RuleActions } from './actions.js';
import type { Prefilter } from '../engine/prefilter.js';
import { planPrefilter, type UnionSources } from './prefilter-plan.js';
import { planTargetMasks, type TargetMasks } from './target-masks.js';
import { planUnions, type UnionPlan } from './union-plan.js';
import { ALWAYS } from '../transforms/triggers.js';
import { inRanges, parseIdRanges, splitTargets, toExclusion, toSelector } from './targets.js';

/** The executable rule list: one array per phase (1-5), markers copied into every phase. */
export interface RuleSet {
  readonly phases: readonly (readonly Rule[])[];
  readonly engineMode: EngineMode;
  /** Which rules can possibly match a value (see engine/prefilter.ts). */
  readonly prefilter: Prefilter;
  /** How many (selector, transformation chain) unions the rules share (Rule.unionIds). */
  readonly unionCount: number;
  /** What each union selects (compile/prefilter-plan.ts). */
  readonly unionSources: UnionSources;
  /** Transformation-prefix nodes (Rule.transformNode), the untransformed one (0) included. */
  readonly nodeCount: number;
  /** Rules that could not be compiled (an operator or pattern we cannot run): skipped, reported at load. */
  readonly problems: readonly string[];
  /**
   * Per phase and rule index: where its `skipAfter` lands (just after the marker's first
   * occurrence after it, or the end), found once here instead of by a scan at every match: a
   * request matches ~90 of the CRS's paranoia-level skips. -1 for a rule without `skipAfter`.
   */
  readonly skipTargets: readonly (readonly number[])[];
  /** Which rules can be skipped when the variables they read are empty (compile/target-masks.ts). */
  readonly targetMasks: TargetMasks;
  /** Per phase, the rules' unions and prefilter bits as typed arrays (compile/union-plan.ts). */
  readonly unionPlans: readonly UnionPlan[];
}

/** Index just after the marker named `name` at or after `from`, or the end of the list. */
function afterMarker(rules: readonly Rule[], from: number, name: string): number {
  for (let k = from; k < rules.length; k++) if (rules[k]!.marker === name) return k + 1;
  return rules.length;
}

interface Defaults {
  disruptive: Disruptive | undefined;
  log: boolean;
}

/** Directives that change nothing the engine evaluates (audit logs, limits, signatures). */
const IGNORED_DIRECTIVES = new Set([
  'seccomponentsignature', 'secrequestbodyaccess', 'secresponsebodyaccess', 'secrequestbodylimit', 'secrequestbodynofileslimit',
  'secrequestbodylimitaction', 'secresponsebodylimit', 'secresponsebodylimitaction', 'secresponsebodymimetype', 'secauditengine',
  'secauditlog', 'secauditlogparts', 'secauditlogtype', 'secauditlogrelevantstatus', 'secauditlogstoragedir', 'secdebuglog',
  'secdebugloglevel', 'sectmpdir', 'secdatadir', 'secargumentseparator', 'seccookieformat', 'secunicodemapfile', 'secstatusengine',
  'secpcrematchlimit', 'secpcrematchlimitrecursion', 'seccollectiontimeout', 'secuploaddir', 'secuploadkeepfiles', 'secuploadfilemode',
  'secrequestbodyinmemorylimit', 'secxmlexternalentity', 'secargumentslimit', 'secrequestbodyjsondepthlimit', 'sechttpblkey',
  'secgeolookupdb', 'secserversignature', 'secruleperftime', 'secconnengine', 'secremoterules', 'secremoterulesfailaction',
]);

function buildRule(raw: RuleActions, d: Directive, varsText: string | undefined, opText: string | undefined, phase: number, defaults: Defaults[], chain: Rule | undefined): Rule {
  const parsed = varsText === undefined ? { targets: [], exclusions: [] } : splitTargets(parseVariables(varsText, d.where));
  const op = opText === undefined ? { name: 'unconditionalMatch', negated: false, param: '' } : parseOperator(opText);
  const def = defaults[phase];
  // Field order matters for speed: the fields every rule visit reads come first, so they share the
  // object's first cache lines (the gateway evaluates ~400 rule links per request, between which
  // its HTTP work evicts them).
  return {
    marker: undefined,
    txCheck: undefined,
    id: raw.id ?? 0,
    tags: raw.tags,
    targets: parsed.targets,
    chain,
    skipAfter: raw.skipAfter,
    skip: raw.skip,
    log: raw.log ?? def?.log ?? true,
    disruptive: raw.disruptive ?? def?.disruptive,
    linkActions: raw.setvars.length + raw.ctls.length > 0,
    setvars: raw.setvars,
    ctls: raw.ctls,
    negated: op.negated,
    prefilterBit: -1,
    unionIds: [],
    prefilterBits: [],
    classGate: ALWAYS,
    transformNode: 0,
    transformSteps: [],
    multiMatch: raw.multiMatch,
    operator: compileOperator(op.name, op.param, { dir: path.dirname(d.where.replace(/:\d+$/, '')) }),
    capture: raw.capture,
    exclusions: parsed.exclusions,
    operatorName: op.name,
    operatorParam: op.param,
    phase,
    where: d.where,
    transforms: raw.transforms,
    transformNames: raw.transformNames,
    transformKey: raw.transformNames.join(',').toLowerCase(),
    status: raw.status,
    msg: raw.msg,
    logdata: raw.logdata,
    severity: raw.severity,
  };
}

function markerRule(name: string, where: string, phase: number): Rule {
  // The same field order as buildRule's: one object shape for every rule in a phase list.
  return {
    marker: name, txCheck: undefined, id: 0, tags: [], targets: [], chain: undefined, skipAfter: undefined, skip: 0, log: false, disruptive: undefined,
    linkActions: false, setvars: [], ctls: [], negated: false, prefilterBit: -1, unionIds: [], prefilterBits: [], classGate: ALWAYS, transformNode: 0, transformSteps: [], multiMatch: false,
    operator: () => false, capture: false, exclusions: [], operatorName: 'noMatch', operatorParam: '', phase, where, transforms: [], transformNames: [],
    transformKey: '', status: undefined, msg: undefined, logdata: undefined, severity: undefined,
  };
}

/** A chain is written head first; each link is compiled when its directive arrives, and linked at the end. */
interface PendingChain {
  readonly links: { raw: RuleActions; d: Directive; vars: string | undefined; op: string | undefined }[];
  readonly phase: number;
}

export function compileRuleSet(directives: readonly Directive[]): RuleSet {
  const phases: Rule[][] = [[], [], [], [], [], []];
  const defaults: Defaults[] = [];
  const problems: string[] = [];
  let engineMode: EngineMode = 'On';
  let pending: PendingChain | undefined;
  const updates: { ranges: [number, number][]; add: Selector[]; exclude: Exclusion[] }[] = [];
  const removedIds: [number, number][] = [];
  const removedTags = new Set<string>();

  const finishChain = (chain: PendingChain) => {
    let next: Rule | undefined;
    try {
      for (let k = chain.links.length - 1; k >= 0; k--) {
        const link = chain.links[k]!;
        next = buildRule(link.raw, link.d, link.vars, link.op, chain.phase, defaults, next);
      }
      phases[chain.phase]!.push(next!);
    } catch (error) {
      problems.push(`${chain.links[0]!.d.where} (rule ${chain.links[0]!.raw.id ?? '?'}): ${(error as Error).message}`);
    }
  };

  for (const d of directives) {
    const name = d.name.toLowerCase();
    try {
      if (name === 'secrule' || name === 'secaction') {
        const [vars, op, actionText] = name === 'secrule' ? [d.args[0], d.args[1], d.args[2]] : [undefined, undefined, d.args[0]];
        if (name === 'secrule' && (vars === undefined || op === undefined)) throw new Error('SecRule needs targets and an operator');
        const raw = interpretActions(parseActions(actionText ?? '', d.where), d.where);
        const link = { raw, d, vars, op };
        if (pending) pending.links.push(link);
        else pending = { links: [link], phase: raw.phase ?? 2 };
        if (!raw.chain) {
          finishChain(pending);
          pending = undefined;
        }
      } else if (name === 'secmarker') {
        for (let p = 1; p <= 5; p++) phases[p]!.push(markerRule(d.args[0] ?? '', d.where, p));
      } else if (name === 'secdefaultaction') {
        const raw = interpretActions(parseActions(d.args[0] ?? '', d.where), d.where);
        defaults[raw.phase ?? 2] = { disruptive: raw.disruptive, log: raw.log ?? true };
      } else if (name === 'secruleengine') {
        engineMode = (({ on: 'On', off: 'Off', detectiononly: 'DetectionOnly' }) as Record<string, EngineMode>)[(d.args[0] ?? '').toLowerCase()] ?? 'On';
      } else if (name === 'secruleremovebyid') {
        removedIds.push(...parseIdRanges(d.args.join(' ')));
      } else if (name === 'secruleremovebytag') {
        for (const tag of d.args) removedTags.add(tag);
      } else if (name === 'secruleupdatetargetbyid') {
        const add: Selector[] = [];
        const exclude: Exclusion[] = [];
        for (const v of parseVariables(d.args[1] ?? '', d.where)) (v.exclude ? exclude.push(toExclusion(v)) : add.push(toSelector(v)));
        updates.push({ ranges: parseIdRanges(d.args[0] ?? ''), add, exclude });
      } else if (!IGNORED_DIRECTIVES.has(name)) {
        problems.push(`${d.where}: directive ${d.name} is not supported (ignored)`);
      }
    } catch (error) {
      problems.push(`${d.where}: ${(error as Error).message}`);
      pending = undefined;
    }
  }
  const result = phases.map((list) => list.filter((r) => r.marker !== undefined || (!inRanges(r.id, removedIds) && !r.tags.some((t) => removedTags.has(t)))));
  for (const list of result) {
    for (let k = 0; k < list.length; k++) {
      const rule = list[k]!;
      const mine = updates.filter((u) => inRanges(rule.id, u.ranges));
      if (mine.length === 0 || rule.marker !== undefined) continue;
      list[k] = { ...rule, targets: [...rule.targets, ...mine.flatMap((u) => u.add)], exclusions: [...rule.exclusions, ...mine.flatMap((u) => u.exclude)] };
    }
  }
  const { prefilter, unionCount, nodeCount, unionSources } = planPrefilter(result);
  const skipTargets = result.map((list) => list.map((rule, k) => (rule.skipAfter === undefined ? -1 : afterMarker(list, k + 1, rule.skipAfter))));
  return { phases: result, engineMode, problems, prefilter, unionCount, unionSources, nodeCount, skipTargets, targetMasks: planTargetMasks(result), unionPlans: result.map(planUnions) };
}

/** Where evaluation goes on after rule `i` of `phase` matched: past its skipAfter marker, or past its `skip` count. */
export function indexAfterMatch(ruleSet: RuleSet, phase: number, i: number): number {
  const rule = ruleSet.phases[phase]![i]!;
  return rule.skipAfter !== undefined ? ruleSet.skipTargets[phase]![i]! : i + 1 + rule.skip;
}

export { parsePhase };

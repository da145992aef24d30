import type { RawAction } from '../seclang/actions-parse.js';
import { parseVariables } from '../seclang/variables-parse.js';
import type { Ctl, Disruptive, EngineMode, Macro, SetVar, Transform } from '../types.js';
import { compileMacro, isLiteral, literalOf } from '../engine/macro.js';
import { lookupTransform } from '../transforms/index.js';
import { parseIdRanges, toExclusion } from './targets.js';
import { intern, internOrUndefined } from './intern.js';

/** The actions of one rule, interpreted; the compiler merges them with SecDefaultAction. */
export interface RuleActions {
  id: number | undefined;
  phase: number | undefined;
  chain: boolean;
  capture: boolean;
  multiMatch: boolean;
  transforms: Transform[];
  transformNames: string[];
  setvars: SetVar[];
  ctls: Ctl[];
  disruptive: Disruptive | undefined;
  status: number | undefined;
  log: boolean | undefined;
  skip: number;
  skipAfter: string | undefined;
  tags: string[];
  msg: Macro | undefined;
  logdata: Macro | undefined;
  severity: string | undefined;
}

const PHASES: Record<string, number> = { request: 2, response: 4, logging: 5 };
const DISRUPTIVE = new Set(['pass', 'block', 'deny', 'drop', 'allow', 'redirect']);
/** Actions that change nothing the engine evaluates (metadata, audit logging, persistence). */
const IGNORED = new Set([
  'ver', 'rev', 'accuracy', 'maturity', 'auditlog', 'noauditlog', 'initcol', 'setenv', 'expirevar',
  'sanitisematched', 'sanitizematched', 'sanitisearg', 'sanitiserequestheader', 'setuid', 'setsid', 'deprecatevar', 'exec', 'pause', 'append', 'prepend',
]);

export function parsePhase(value: string): number {
  const n = PHASES[value.toLowerCase()] ?? Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`bad phase "${value}"`);
  return n;
}

function parseSetVar(value: string): SetVar {
  let text = value.trim();
  if (text.startsWith('!')) {
    const [collection, ...rest] = text.slice(1).split('.');
    return { collection: intern(collection!.toUpperCase()), ...setVarName(rest.join('.')), op: 'delete', value: [] };
  }
  const eq = text.indexOf('=');
  const lhs = eq === -1 ? text : text.slice(0, eq);
  let rhs = eq === -1 ? '1' : text.slice(eq + 1);
  let op: SetVar['op'] = 'set';
  if (rhs.startsWith('+')) {
    op = 'add';
    rhs = rhs.slice(1);
  } else if (rhs.startsWith('-')) {
    op = 'sub';
    rhs = rhs.slice(1);
  }
  const dot = lhs.indexOf('.');
  if (dot === -1) throw new Error(`setvar "${text}" names no collection`);
  text = lhs.slice(dot + 1);
  return { collection: intern(lhs.slice(0, dot).toUpperCase()), ...setVarName(text), op, value: compileMacro(rhs) };
}

/** A setvar's name, and when it holds no macro its text and lower-cased form (the engine then folds no case at run time). */
function setVarName(text: string): Pick<SetVar, 'name' | 'literalName' | 'lowerName' | 'entryName'> {
  const name = compileMacro(text);
  const literal = isLiteral(name) ? literalOf(name) : undefined;
  return { name, literalName: internOrUndefined(literal), lowerName: internOrUndefined(literal?.toLowerCase()), entryName: literal === undefined ? undefined : `TX:${literal}` };
}

function parseCtl(value: string, where: string): Ctl {
  const eq = value.indexOf('=');
  const name = value.slice(0, eq).trim().toLowerCase();
  const arg = value.slice(eq + 1).trim();
  switch (name) {
    case 'ruleremovebyid':
      return { kind: 'ruleRemoveById', ranges: parseIdRanges(arg) };
    case 'ruleremovebytag':
      return { kind: 'ruleRemoveByTag', tag: intern(arg) };
    case 'ruleremovetargetbyid':
    case 'ruleremovetargetbytag': {
      const semi = arg.indexOf(';');
      const [target] = parseVariables(arg.slice(semi + 1), where);
      if (semi === -1 || target === undefined) throw new Error(`ctl:${name} needs "id;TARGET"`);
      const exclusion = toExclusion(target);
      return name === 'ruleremovetargetbyid'
        ? { kind: 'ruleRemoveTargetById', ranges: parseIdRanges(arg.slice(0, semi)), target: exclusion }
        : { kind: 'ruleRemoveTargetByTag', tag: intern(arg.slice(0, semi)), target: exclusion };
    }
    case 'ruleengine': {
      const mode = ({ on: 'On', off: 'Off', detectiononly: 'DetectionOnly' } as const)[arg.toLowerCase() as 'on'];
      if (mode === undefined) throw new Error(`ctl:ruleEngine=${arg} is not On, Off or DetectionOnly`);
      return { kind: 'ruleEngine', value: mode as EngineMode };
    }
    case 'requestbodyprocessor':
      return { kind: 'requestBodyProcessor', value: arg.toUpperCase() };
    case 'forcerequestbodyvariable':
      return { kind: 'forceRequestBodyVariable', value: arg.toLowerCase() === 'on' };
    default:
      // auditEngine, auditLogParts, requestBodyAccess: nothing the engine evaluates.
      return { kind: 'ignored' };
  }
}

/** `allow`, `allow:request` or `allow:phase`; any other scope is refused at load. */
function allowAction(value: string): Disruptive {
  const scope = value.trim().toLowerCase();
  if (scope === '') return 'allow';
  if (scope === 'request' || scope === 'phase') return `allow:${scope}`;
  throw new Error(`bad allow "${value}": allow, allow:request or allow:phase`);
}

export function interpretActions(raws: readonly RawAction[], where: string): RuleActions {
  const a: RuleActions = {
    id: undefined, phase: undefined, chain: false, capture: false, multiMatch: false, transforms: [], transformNames: [],
    setvars: [], ctls: [], disruptive: undefined, status: undefined, log: undefined, skip: 0, skipAfter: undefined,
    tags: [], msg: undefined, logdata: undefined, severity: undefined,
  };
  for (const { name, value } of raws) {
    if (DISRUPTIVE.has(name)) a.disruptive = name === 'allow' ? allowAction(value) : (name as Disruptive);
    else if (IGNORED.has(name)) continue;
    else if (name === 'id') a.id = Number(value);
    else if (name === 'phase') a.phase = parsePhase(value);
    else if (name === 'chain') a.chain = true;
    else if (name === 'capture') a.capture = true;
    else if (name === 'multimatch') a.multiMatch = true;
    else if (name === 't') {
      if (value.toLowerCase() === 'none') {
        a.transforms = [];
        a.transformNames = [];
        continue;
      }
      const fn = lookupTransform(value);
      if (fn === undefined) throw new Error(`transformation t:${value} is not supported`);
      a.transforms.push(fn);
      a.transformNames.push(value);
    } else if (name === 'setvar') a.setvars.push(parseSetVar(value));
    else if (name === 'ctl') a.ctls.push(parseCtl(value, where));
    else if (name === 'status') a.status = Number(value);
    else if (name === 'log') a.log = true;
    else if (name === 'nolog') a.log = false;
    else if (name === 'skip') a.skip = Number(value);
    else if (name === 'skipafter') a.skipAfter = value;
    // Interned: each rule's tags are compared with a ctl's tag (941010 adds one per request).
    else if (name === 'tag') a.tags.push(intern(value));
    else if (name === 'msg') a.msg = compileMacro(value);
    else if (name === 'logdata') a.logdata = compileMacro(value);
    else if (name === 'severity') a.severity = value;
    else throw new Error(`action ${name} is not supported`);
  }
  if (a.id !== undefined && !Number.isInteger(a.id)) throw new Error('rule id is not an integer');
  return a;
}

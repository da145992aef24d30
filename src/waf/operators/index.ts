import { BlockList, isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Comparison, Macro, OperatorContext, OperatorFn } from '../types.js';
import { compileMacro, isLiteral, literalOf } from '../engine/macro.js';
import { compilePcre } from '../regex/translate.js';
import { PhraseMatcher } from './aho-corasick.js';
import { compileByteRange, invalidUrlEncoding, invalidUtf8 } from './validate.js';
import { HIGH, PERCENT } from '../transforms/triggers.js';
import { detectSqli } from '../detect/sqli.js';
import { SQLI_LITERALS } from '../detect/sqli-gate.js';
import { detectXss } from '../detect/xss.js';
import { selectiveLiteralSets } from '../regex/escape-literals.js';
import { prunedExec } from '../regex/branch-prune.js';
import { minMatchLength } from '../regex/min-length.js';

export interface OperatorSource {
  /** Folder of the rule file, where `@pmFromFile` lists live. */
  readonly dir: string;
}

/** ModSecurity's atoi: leading integer or 0. */
export function toInt(s: string): number {
  const n = parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** A parameter that may hold macros: resolved per call only when it does. */
function param(macro: Macro): (ctx: OperatorContext) => string {
  if (isLiteral(macro)) {
    const text = literalOf(macro);
    return () => text;
  }
  return (ctx) => ctx.expand(macro);
}

/** True when `a op b` holds. */
export function compare(op: Comparison['op'], a: number, b: number): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ge':
      return a >= b;
    case 'gt':
      return a > b;
    case 'le':
      return a <= b;
    case 'lt':
      return a < b;
  }
}

/**
 * `@eq`, `@ge`, `@gt`, `@le`, `@lt`: both sides through atoi. A literal operand (nearly all: the
 * CRS's paranoia-level checks are `@lt 2`) is converted once, and exposed as `comparison` so the
 * engine can evaluate TX checks without calling the operator (engine/evaluate.ts).
 */
function comparison(op: Comparison['op'], macro: Macro): OperatorFn {
  if (!isLiteral(macro)) return (ctx, input) => compare(op, toInt(input), toInt(ctx.expand(macro)));
  const n = toInt(literalOf(macro));
  return Object.assign((_ctx: OperatorContext, input: string) => compare(op, toInt(input), n), { comparison: { op, n } });
}

function readPhraseFile(dir: string, file: string): string[] {
  const text = readFileSync(path.resolve(dir, file), 'latin1');
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

function phraseOperator(phrases: string[]): OperatorFn {
  const matcher = new PhraseMatcher(phrases);
  const fn: OperatorFn = (ctx, input, capture) => {
    const found = matcher.find(input);
    if (found !== undefined && capture) ctx.setCaptures([found]);
    return found !== undefined;
  };
  // The matcher folds ASCII case only, as the prefilter does: a phrase matches iff it is found there.
  // Phrases are bytes (read as Latin-1): the UTF-8 of ssrf.data's full-width digits is literal too.
  const nonEmpty = phrases.filter((p) => p !== '');
  if (nonEmpty.length === 0 || nonEmpty.some((p) => /[^\x00-\xff]/.test(p))) return fn;
  // A match is a whole phrase (the matcher skips empty ones, as the prefilter does).
  const minLength = Math.min(...nonEmpty.map((p) => p.length));
  return Object.assign(fn, { literalSets: [nonEmpty.map(asciiLower)], minLength });
}

function rxOperator(pattern: string): OperatorFn {
  const re = compilePcre(pattern);
  // A long value is matched without the branches it cannot match (regex/branch-prune.ts).
  const exec = prunedExec(re);
  const fn: OperatorFn = (ctx, input, capture) => {
    const m = exec(input);
    if (m === null) return false;
    if (capture) ctx.setCaptures(m);
    return true;
  };
  const literalSets = selectiveLiteralSets(re.source);
  return Object.assign(fn, literalSets === undefined ? { minLength: minMatchLength(re.source) } : { literalSets, minLength: minMatchLength(re.source) });
}

function ipMatch(list: string): OperatorFn {
  const block = new BlockList();
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    const [addr, bits] = entry.split('/');
    const type = isIP(addr ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) block.addAddress(addr!, type);
    else block.addSubnet(addr!, Number(bits), type);
  }
  // BlockList.check builds a SocketAddress per call (~1.8 us per request in the gateway profile);
  // the rules read REMOTE_ADDR, one address per request and the same one across a client's
  // requests, so the last answer is kept: bounded (one entry) and exact (a pure function of input).
  let lastInput: string | undefined;
  let lastResult = false;
  return (_ctx, input) => {
    if (input === lastInput) return lastResult;
    const version = isIP(input);
    lastResult = version !== 0 && block.check(input, version === 6 ? 'ipv6' : 'ipv4');
    lastInput = input;
    return lastResult;
  };
}

function containsWord(haystack: string, word: string): boolean {
  if (word === '') return true;
  for (let i = haystack.indexOf(word); i !== -1; i = haystack.indexOf(word, i + 1)) {
    const before = i === 0 ? '' : haystack[i - 1]!;
    const after = haystack[i + word.length] ?? '';
    if (!/\w/.test(before) && !/\w/.test(after)) return true;
  }
  return false;
}

/** Compiles one operator; throws with the reason when it cannot be run. */
export function compileOperator(name: string, raw: string, src: OperatorSource): OperatorFn {
  const macro = compileMacro(raw);
  const p = param(macro);
  switch (name.toLowerCase()) {
    case 'rx':
      return rxOperator(raw);
    case 'pm':
      return phraseOperator(raw.split(/\s+/).filter((w) => w !== ''));
    case 'pmf':
    case 'pmfromfile':
      return phraseOperator(raw.split(/\s+/).filter((f) => f !== '').flatMap((f) => readPhraseFile(src.dir, f)));
    case 'streq':
      return (ctx, input) => input === p(ctx);
    case 'contains':
      return (ctx, input) => input.includes(p(ctx));
    case 'containsword':
      return (ctx, input) => containsWord(input, p(ctx));
    case 'beginswith':
      return (ctx, input) => input.startsWith(p(ctx));
    case 'endswith':
      return (ctx, input) => input.endsWith(p(ctx));
    case 'within':
      return (ctx, input) => p(ctx).includes(input);
    case 'eq':
    case 'ge':
    case 'gt':
    case 'le':
    case 'lt':
      return comparison(name.toLowerCase() as Comparison['op'], macro);
    case 'ipmatch':
      return ipMatch(raw);
    // Each validation matches only a value holding certain chars: its class gate (Rule.classGate)
    // skips the rest, a whole JSON body's values at once when none holds them.
    case 'validatebyterange': {
      const { outside, gate } = compileByteRange(raw);
      return Object.assign((_ctx: OperatorContext, input: string) => outside(input), { classGate: gate });
    }
    case 'validateurlencoding':
      return Object.assign((_ctx: OperatorContext, input: string) => invalidUrlEncoding(input), { classGate: PERCENT });
    case 'validateutf8encoding':
      return Object.assign((_ctx: OperatorContext, input: string) => invalidUtf8(input), { classGate: HIGH });
    case 'detectsqli': {
      const fn: OperatorFn = (ctx, input, capture) => {
        const fingerprint = detectSqli(input);
        if (fingerprint !== undefined && capture) ctx.setCaptures([fingerprint]);
        return fingerprint !== undefined;
      };
      return Object.assign(fn, { literalSets: [SQLI_LITERALS] });
    }
    case 'detectxss':
      // Every way detectXss flags a value needs one of these (a tag, a quote to break out of, an
      // attribute's `=`, or a script URL's `:`, possibly as an entity): the prefilter's literal set.
      return Object.assign((_ctx: OperatorContext, input: string) => detectXss(input), { literalSets: [['<', ':', '&', '"', "'", '`', '=']] });
    case 'unconditionalmatch':
      return () => true;
    case 'nomatch':
      return () => false;
    default:
      throw new Error(`operator @${name} is not supported`);
  }
}

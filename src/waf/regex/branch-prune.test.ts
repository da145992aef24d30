import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIN_LENGTH, branchSpans, cutSource, pruneCandidates, prunedExec, singleCharSets } from './branch-prune.js';
import { compilePcre } from './translate.js';
import { guardedExec } from './budget.js';
import { WafEngine } from '../engine/waf-engine.js';
import { BudgetExceededError } from '../engine/evaluate.js';
import type { OperatorFn, Rule } from '../types.js';
import { locateTestCrs } from '../ftw/locate.js';
import { CRS_TEST_SETTINGS } from '../ftw/run.js';
import { loadFtwCases } from '../ftw/cases.js';
import { buildFtwRequest, buildFtwResponse } from '../ftw/build-request.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CRS_DIR = locateTestCrs(here);

/** What exec returned, comparably: null, or where the match is and every group. */
const shape = (m: RegExpExecArray | null) => (m === null ? null : [m.index, ...m]);

describe('branch pruning', () => {
  it('finds the branches of every alternation, in groups of every kind and at the top', () => {
    const src = 'a|(?:b|c(d|e))|(?<n>f|g)|(?<=h|i)j';
    const spans = branchSpans(src).map(([s, e]) => src.slice(s, e));
    expect(spans.sort()).toEqual(['(?:b|c(d|e))', '(?<=h|i)j', '(?<n>f|g)', 'a', 'b', 'c(d|e)', 'd', 'e', 'f', 'g', 'h', 'i'].sort());
    // A `|` or `(` inside a class or escaped is a char.
    expect(branchSpans('[|(]x\\|y|z').map(([s, e]) => '[|(]x\\|y|z'.slice(s, e))).toEqual(['[|(]x\\|y', 'z']);
  });

  it('cuts only branches with an unbounded repeat, no capturing group and required literals', () => {
    const src = compilePcre(`"(?:[^a-z]+[a-z]+=\\d|(x+)y|[a-z]+|ab)`).source;
    const cut = pruneCandidates(src).map((c) => src.slice(c.start, c.end));
    expect(cut).toEqual(['[^a-z]+[a-z]+=\\d']);
    expect(cutSource(src, pruneCandidates(src))).toBe(`"(?:(?!)|(x+)y|[a-z]+|ab)`);
  });

  it('matches a long value as the full pattern does, cutting the branch it cannot match', () => {
    const re = compilePcre(`["'](?:[^0-9a-z]+[a-z]+=[0-9]|[a-z]{3,}[^a-z])`);
    const exec = prunedExec(re);
    const noEquals = `${"!'.`@".repeat(60)}'abc!`;
    const withEquals = `${"!'.`@".repeat(60)}'!!ab=1`;
    const neither = "!'.`@".repeat(60);
    expect(noEquals.length).toBeGreaterThanOrEqual(MIN_LENGTH);
    for (const value of [noEquals, withEquals, neither, `x'abc.`]) expect(shape(exec(value))).toEqual(shape(guardedExec(re, value)));
    expect(exec(noEquals)?.[0]).toBe("'abc!");
    // Leftmost: from the run's first quote, across the whole run.
    expect(exec(withEquals)?.[0]).toBe(withEquals.slice(1));
    expect(exec(neither)).toBeNull();
  });

  it('checks single chars, from longer literals their first and last, whatever their case in the value', () => {
    // `select\s+\w+` needs `select` and a whitespace char after it: its first char `s`, and that
    // whitespace. `\d` counts as its ten digits.
    const sets = pruneCandidates(compilePcre('a|select\\s+\\w+').source)[0]!.sets.map((set) => String.fromCharCode(...set));
    expect(sets).toContain('s');
    expect(sets).toContain('\t\n\v\f\r ');
    expect(singleCharSets(compilePcre('x\\W*\\d').source).map((set) => String.fromCharCode(...set))).toEqual(['x', '0123456789']);
    const re = compilePcre('(?i)x|[^;]+;[a-z]+#');
    const exec = prunedExec(re);
    const long = 'q'.repeat(MIN_LENGTH);
    // The branch needs `;` and `#`: with both it can match, with one of them missing it is cut.
    expect(exec(`${long};ab#`)?.[0]).toBe(`${long};ab#`);
    expect(exec(`${long};ab`)).toBeNull();
    expect(exec(`${long};abX`)).toEqual(guardedExec(re, `${long};abX`));
  });

  it.skipIf(CRS_DIR === undefined)(
    'gives every CRS pattern the same matches and captures on the long values the regression suite feeds it, and on fuzzed ones',
    async () => {
      const engine = WafEngine.fromCrs({ crsDir: CRS_DIR!, settings: CRS_TEST_SETTINGS });
      const rxRules: Rule[] = [];
      for (const phase of engine.ruleSet.phases) for (const head of phase ?? []) for (let r: Rule | undefined = head; r; r = r.chain) if (r.operatorName.toLowerCase() === 'rx') rxRules.push(r);
      // Every long value each rx operator is asked about during the suite.
      const seen = new Map<Rule, Set<string>>();
      for (const rule of rxRules) {
        const op = rule.operator;
        const values = new Set<string>();
        seen.set(rule, values);
        (rule as { operator: OperatorFn }).operator = Object.assign((ctx: Parameters<OperatorFn>[0], input: string, capture: boolean) => {
          if (input.length >= MIN_LENGTH) values.add(input);
          return op(ctx, input, capture);
        }, op);
      }
      for (const c of loadFtwCases(path.join(CRS_DIR!, 'tests', 'regression', 'tests'))) {
        for (const stage of c.stages) {
          const req = buildFtwRequest(stage.input);
          const tx = engine.newTransaction();
          tx.usePrefilter = false;
          try {
            engine.evaluateRequest(req, tx);
            engine.evaluateResponse(tx, buildFtwResponse(req));
          } catch (error) {
            if (!(error instanceof BudgetExceededError)) throw error;
          }
        }
      }
      let seed = 5;
      const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
      const noise = ['"', "'", '`', '=', ' ', '(', ')', ';', '/', '<', '>', '!', '.', '@', '1', 'a', 'Z', '\n', '%', '-', '+', '|', '&', '#'];
      let compared = 0;
      let pruned = 0;
      let matched = 0;
      const wrong: string[] = [];
      for (const rule of rxRules) {
        const re = compilePcre(rule.operatorParam);
        const candidates = pruneCandidates(re.source);
        const exec = prunedExec(re);
        const values = [...seen.get(rule)!];
        // Fuzz: long strings of the pattern's own candidate literals and punctuation, each with
        // some of the literals left out, so that branches are cut and kept in turn.
        const pieces = candidates.flatMap((cand) => cand.sets.flat().map((c) => String.fromCharCode(c)));
        if (pieces.length > 0) {
          for (let n = 0; n < 30; n++) {
            let s = '';
            while (s.length < MIN_LENGTH + 40) s += rand(3) === 0 ? pieces[rand(pieces.length)]! : noise[rand(noise.length)]!.repeat(1 + rand(4));
            values.push(s);
          }
        }
        for (const value of values) {
          const full = shape(guardedExec(re, value));
          const got = shape(exec(value));
          compared++;
          if (full !== null) matched++;
          if (JSON.stringify(full) !== JSON.stringify(got)) wrong.push(`${rule.id}: ${JSON.stringify(value.slice(0, 100))}`);
        }
        if (candidates.length > 0) pruned++;
      }
      expect(wrong).toEqual([]);
      // Both sides were exercised: many values, matches among them, many patterns with branches to cut.
      expect(compared).toBeGreaterThan(5000);
      expect(matched).toBeGreaterThan(300);
      expect(pruned).toBeGreaterThan(50);
    },
    600_000,
  );
});

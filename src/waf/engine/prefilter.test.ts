import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requiredLiteralSets, requiredLiterals } from '../regex/literals.js';
import { compilePcre } from '../regex/translate.js';
import { Prefilter, hasAllBits, hasBit } from './prefilter.js';
import { WafEngine } from './waf-engine.js';
import type { OperatorContext, OperatorFn, Rule } from '../types.js';
import { locateTestCrs } from '../ftw/locate.js';
import { CRS_TEST_SETTINGS } from '../ftw/run.js';
import { loadFtwCases } from '../ftw/cases.js';
import { buildFtwRequest } from '../ftw/build-request.js';
import { stageOutcome } from '../../../test/helpers/waf-engine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CRS_DIR = locateTestCrs(here);
const lits = (pcre: string) => requiredLiterals(compilePcre(pcre).source);
const NO_CTX: OperatorContext = { expand: () => '', setCaptures: () => undefined };

describe('required literals of a pattern', () => {
  it('derives literals from concatenations, alternations and case-insensitive patterns', () => {
    // The whitespace before `select` is in every match too: the literal holds it.
    expect(lits('union\\s+select')).toEqual(['\tselect', '\nselect', '\vselect', '\fselect', '\rselect', ' select']);
    expect(lits('(?:foo|bar)baz')).toEqual(['foobaz', 'barbaz']);
    expect(lits('(?i)SeLeCt')).toEqual(['select']);
    expect(lits('(?i:Ab)c')).toEqual(['abc']);
    expect(lits('a(?=xyz)b')).toEqual(['ab']);
  });

  it('gives none when a match need not contain a literal', () => {
    expect(lits('foo|\\d+')).toBeUndefined();
    expect(lits('(?:abc)?')).toBeUndefined();
    expect(lits('x*')).toBeUndefined();
    expect(lits('[^a]+')).toBeUndefined();
    expect(lits('(a)\\1')).toEqual(['a']);
    // A non-ASCII char is never a literal: case folding outside ASCII is not modelled.
    expect(lits('\\xe9t\\xe9')).toEqual(['t']);
  });

  it('keeps every part of a concatenation as a requirement of its own, the most selective first', () => {
    expect(requiredLiteralSets(compilePcre('["\']\\s*(?:[^a-z]|in).+?[.].+?=').source)).toEqual(expect.arrayContaining([['"', "'"], ['.'], ['=']]));
    expect(requiredLiteralSets(compilePcre('(?:ab|cd)x*efg').source)).toEqual([['efg'], ['ab', 'cd']]);
  });

  it('takes a class of up to 8 chars as literals, and gives up on a larger one', () => {
    // CRS 932125/932370/932380: a Windows command needs a separator before it.
    expect(requiredLiteralSets(compilePcre('(?i)(?:[\\n\\r;`\\{]|\\|\\|?|&&?)[\\s\\x0b]*(?:cmd|powershell)').source)).toEqual([['cmd', 'powershell'], ['\n', '\r', ';', '`', '{', '|', '||', '&', '&&']]);
    expect(lits('[abcdefgh]x')).toEqual(['ax', 'bx', 'cx', 'dx', 'ex', 'fx', 'gx', 'hx']);
    expect(lits('[abcdefghi]')).toBeUndefined();
  });

  it('requires the text across a joint with a group: a prefix before the alternatives, a suffix after them', () => {
    // CRS 932260: commands in nested groups after a letter in common, each with its own ending
    // (the parts alone required `t`, which nearly every value holds).
    expect(lits('t(?:ailf[^0-9a-z]|ftp[^0-9a-z]|imeout[^0-9a-z])')).toEqual(['tailf', 'tftp', 'timeout']);
    expect(lits('(?:x+a|y+b)c')).toEqual(['xac', 'ybc']);
    expect(lits('ab+c')).toEqual(['bc']);
    // No set that another implies: `select` goes with ` select`, and costs no bit of its own.
    expect(requiredLiteralSets(compilePcre('union\\s+select').source)).toEqual([
      ['\tselect', '\nselect', '\vselect', '\fselect', '\rselect', ' select'],
      ['union\t', 'union\n', 'union\v', 'union\f', 'union\r', 'union '],
    ]);
  });

  it('keeps optional parts out of the requirement', () => {
    expect(lits('ab?c')).toEqual(['ac', 'abc']);
    expect(lits('java(?:script)?:')).toEqual(['java:', 'javascript:']);
  });
});

describe('prefilter bits of a rule', () => {
  it('go to its best set, and to further sets only when none of their literals is a common char', () => {
    const engine = WafEngine.fromSecLang(`
SecRule ARGS "@rx (?:union|select)[^z]+[xy]" "id:1,phase:2,pass"
SecRule ARGS "@rx (?:union|select)[^z]+[<>]" "id:2,phase:2,pass"`);
    const [one, two] = engine.ruleSet.phases[2]!;
    expect(requiredLiteralSets(compilePcre('(?:union|select)[^z]+[xy]').source)).toEqual([['union', 'select'], ['x', 'y']]);
    // `x` or `y` is in most text: that set would cost a bit and rule out almost nothing.
    expect(one!.prefilterBits).toHaveLength(1);
    expect(two!.prefilterBits).toHaveLength(2);
    const ids = (uri: string) => engine.evaluateRequest({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: [['Host', 'a.test']], body: undefined, remoteAddr: '192.0.2.1' }).matches.map((m) => m.id);
    expect(ids('/?q=select%201%20x')).toEqual([1]);
    expect(ids('/?q=select%201%20%3C')).toEqual([2]);
    expect(ids('/?q=x%20y%20%3C')).toEqual([]);
  });
});

describe('the prefilter automaton', () => {
  it('sets the bit of every rule one of whose literals occurs, case-insensitively', () => {
    const pf = new Prefilter([['select', 'union'], ['<script'], ['ab', 'abc']]);
    const bits = pf.scan('x UNION y <ScRiPt');
    expect([0, 1, 2].map((b) => hasBit(bits, 0, b))).toEqual([true, true, false]);
    expect([0, 1, 2].map((b) => hasBit(pf.scan('zzabzz'), 0, b))).toEqual([false, false, true]);
    // Overlapping literals found through fail links.
    expect(hasBit(new Prefilter([['bcd'], ['abce']]).scan('abcd'), 0, 0)).toBe(true);
  });

  it('gives as the union of the values scanned since beginReach the OR of their verdicts, and only theirs', () => {
    // 40 literal sets over 3 words, some one char, some sharing starts.
    const sets = Array.from({ length: 40 }, (_, i) => [String.fromCharCode(97 + (i % 26)).repeat(1 + (i % 3)), `x${i}y`]);
    const pf = new Prefilter(sets);
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const value = () => Array.from({ length: Math.floor(random() * 12) }, () => 'abcdexy0123456789 '[Math.floor(random() * 18)]).join('');
    for (let round = 0; round < 50; round++) {
      pf.scan('aaabbbcccx1yx2y'); // reported before the list starts: not in the union
      pf.beginReach();
      const values = Array.from({ length: 1 + Math.floor(random() * 20) }, value);
      const expected = new Uint32Array(pf.words);
      for (const v of values) pf.scan(v).forEach((w, k) => (expected[k]! |= w));
      const union = new Uint32Array(pf.words);
      pf.orReached(union, 0);
      expect(Array.from(union), JSON.stringify(values)).toEqual(Array.from(expected));
    }
  });

  it('matches Latin-1 bytes exactly, and treats a char above 0xff as in no literal', () => {
    const pf = new Prefilter([['\xbc'], ['http://\xe2\x91']]);
    expect([0, 1].map((b) => hasBit(pf.scan('a\xbcb'), 0, b))).toEqual([true, false]);
    expect([0, 1].map((b) => hasBit(pf.scan('HTTP://\xe2\x91\xaf'), 0, b))).toEqual([false, true]);
    expect([0, 1].map((b) => hasBit(pf.scan('\u01bc http://\u01e2\x91'), 0, b))).toEqual([false, false]);
  });
});

/** Every link of the rule set with a prefilter. */
function prefiltered(engine: WafEngine): Rule[] {
  const out: Rule[] = [];
  for (const phase of engine.ruleSet.phases) {
    for (const head of phase) for (let r: Rule | undefined = head; r !== undefined; r = r.chain) if (r.prefilterBit >= 0) out.push(r);
  }
  return out;
}

describe.skipIf(CRS_DIR === undefined)('the prefilter on the CRS regression suite', () => {
  it('changes no result: every case matches the same rules with and without it, and every skipped operator call could not match', async () => {
    const engine = WafEngine.fromCrs({ crsDir: CRS_DIR!, settings: CRS_TEST_SETTINGS });
    const rules = prefiltered(engine);
    expect(rules.length).toBeGreaterThan(250);
    // Record every value a prefiltered operator sees when the prefilter is off.
    const seen = new Map<Rule, Set<string>>();
    const original = new Map<Rule, OperatorFn>();
    let recording = false;
    for (const rule of rules) {
      const op = rule.operator;
      original.set(rule, op);
      const values = new Set<string>();
      seen.set(rule, values);
      (rule as { operator: OperatorFn }).operator = (ctx, input, capture) => {
        if (recording) values.add(input);
        return op(ctx, input, capture);
      };
    }
    const outcome = (req: ReturnType<typeof buildFtwRequest>, usePrefilter: boolean): string => stageOutcome(engine, req, usePrefilter);
    const cases = loadFtwCases(path.join(CRS_DIR!, 'tests', 'regression', 'tests'));
    let stages = 0;
    const differ: string[] = [];
    for (const c of cases) {
      for (const stage of c.stages) {
        const req = buildFtwRequest(stage.input);
        recording = true;
        const off = outcome(req, false);
        recording = false;
        if (outcome(req, true) !== off) differ.push(c.name);
        stages++;
      }
      if (stages % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(differ).toEqual([]);
    expect(stages).toBeGreaterThan(4000);
    // The operator itself, on every value it saw: a match implies the value's bit is set.
    let matches = 0;
    const wrong: string[] = [];
    for (const rule of rules) {
      const op = original.get(rule)!;
      for (const value of seen.get(rule)!) {
        if (!op(NO_CTX, value, false)) continue;
        matches++;
        if (!hasAllBits(engine.ruleSet.prefilter.scan(value), 0, rule.prefilterBits)) wrong.push(`${rule.id}: ${value.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(matches).toBeGreaterThan(3000);
  }, 600_000);

  it('never skips a CRS pattern on fuzzed input that it matches', () => {
    const engine = WafEngine.fromCrs({ crsDir: CRS_DIR!, settings: CRS_TEST_SETTINGS });
    const rules = prefiltered(engine);
    // Strings built from the rules' own literals, case-flipped and spliced with bytes the
    // patterns care about, so that many of them match something.
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const pieces = rules.flatMap((r) => (r.operator.literalSets ?? []).flatMap((set) => set.slice(0, 12)));
    const noise = ['<', '>', '"', "'", ' ', '(', ')', ';', '/', '\\', '=', '%', '\n', '\t', '\0', '&', '|', '$', '{', '}', '\xe9', 'A', '1'];
    const flip = (s: string) => [...s].map((ch) => (rand(2) ? ch.toUpperCase() : ch)).join('');
    let matches = 0;
    const wrong: string[] = [];
    for (let n = 0; n < 1500; n++) {
      let s = '';
      const parts = 1 + rand(5);
      for (let k = 0; k < parts; k++) s += (rand(3) === 0 ? noise[rand(noise.length)]! : '') + flip(pieces[rand(pieces.length)]!) + (rand(2) ? noise[rand(noise.length)]! : '');
      const bits = engine.ruleSet.prefilter.scan(s);
      for (const rule of rules) {
        if (!rule.operator(NO_CTX, s, false)) continue;
        matches++;
        if (!hasAllBits(bits, 0, rule.prefilterBits)) wrong.push(`${rule.id}: ${JSON.stringify(s)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(matches).toBeGreaterThan(1000);
  }, 600_000);
});

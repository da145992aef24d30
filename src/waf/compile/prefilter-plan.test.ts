import { describe, expect, it } from 'vitest';
import { WafEngine } from '../engine/waf-engine.js';
import type { WafRequest } from '../request.js';

// 40 rules on long literals first, then two on one-char literals ordinary text is full of, and
// one on a two-char literal: in rule order the common ones would get bits 40-42, in word 1.
const rules = [
  ...Array.from({ length: 40 }, (_, i) => `SecRule ARGS "@rx longliteral${i}x" "id:${i + 1},phase:2,pass,log"`),
  'SecRule ARGS "@pm e" "id:100,phase:2,pass,log"',
  'SecRule ARGS "@rx ab" "id:101,phase:2,pass,log"',
  'SecRule ARGS "@pm a" "id:102,phase:2,pass,log"',
].join('\n');
const engine = WafEngine.fromSecLang(rules);
const bitOf = (id: number) => engine.ruleSet.phases[2]!.find((r) => r.id === id)!.prefilterBit;

describe('prefilter bits', () => {
  it('are numbered by how often their literals occur, so the common ones share the first word', () => {
    expect([bitOf(100), bitOf(102)].sort()).toEqual([0, 1]);
    expect(bitOf(101)).toBe(2);
    expect(Array.from({ length: 40 }, (_, i) => bitOf(i + 1)).every((bit) => bit >= 3)).toBe(true);
    // A value full of common chars sets its bits in one word: the first.
    const bits = engine.ruleSet.prefilter.scan('a bee and an ape');
    expect([...bits].map((word, i) => (word === 0 ? -1 : i)).filter((i) => i >= 0)).toEqual([0]);
  });

  it('still select the rules whose literals a value holds', () => {
    const request = (q: string): WafRequest => ({ method: 'GET', uri: `/?q=${q}`, protocol: 'HTTP/1.1', headers: [['Host', 'a.test']], body: undefined, remoteAddr: '192.0.2.1' });
    const ids = (q: string) => engine.evaluateRequest(request(q)).matches.map((m) => m.id);
    expect(ids('xyz')).toEqual([]);
    expect(ids('abe')).toEqual([100, 101, 102]);
    expect(ids('longliteral7x')).toEqual([8, 100, 102]);
  });
});

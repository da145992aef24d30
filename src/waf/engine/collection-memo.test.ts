import { describe, expect, it } from 'vitest';
import { WafEngine } from './waf-engine.js';
import type { WafRequest } from '../request.js';

/*
 * A whole collection's memo (engine/values.ts) shares the result of a transformation between the
 * nodes that apply it to the same array. These rules apply t:base64Decode after prefixes that do
 * change the values (lowercase) and that change none (urlDecodeUni on plain base64): only the
 * latter may share.
 */
const RULES = `
SecRule ARGS "@rx ^abc$" "id:1,phase:2,pass,t:none,t:lowercase,t:base64Decode"
SecRule ARGS "@rx ^abc$" "id:2,phase:2,pass,t:none,t:base64Decode"
SecRule ARGS "@rx ^abc$" "id:3,phase:2,pass,t:none,t:urlDecodeUni,t:base64Decode"
SecRule ARGS "@rx ^abc$" "id:4,phase:2,pass,t:none,t:lowercase,t:urlDecodeUni,t:base64Decode"
SecRule ARGS "@rx ^\\xcb\\x08\\xe3$" "id:5,phase:2,pass,t:none,t:lowercase,t:base64Decode"`;

function request(query: string): WafRequest {
  return { method: 'GET', uri: `/?${query}`, protocol: 'HTTP/1.1', headers: [['Host', 'example.test']], body: undefined, remoteAddr: '192.0.2.1' };
}

function matched(engine: WafEngine, query: string, usePrefilter: boolean): number[] {
  const tx = engine.newTransaction();
  tx.usePrefilter = usePrefilter;
  engine.evaluateRequest(request(query), tx);
  return tx.matches.map((m) => m.id).sort((a, b) => a - b);
}

describe('collection memo', () => {
  const engine = WafEngine.fromSecLang(RULES);

  it('shares a transformation only between nodes whose input arrays are the same', () => {
    // base64("abc") = YWJj; lowercased, "ywjj" decodes to cb 08 e3.
    for (const usePrefilter of [true, false]) {
      expect(matched(engine, 'a=YWJj', usePrefilter)).toEqual([2, 3, 5]);
      expect(matched(engine, 'a=YWJj&b=aQ', usePrefilter)).toEqual([2, 3, 5]);
      expect(matched(engine, 'a=aQ', usePrefilter)).toEqual([]);
      // base64 of cb 08 e3, lower-case already: the lowercase steps change nothing, so every
      // base64Decode node reads the one raw array.
      expect(matched(engine, 'a=ywjj', usePrefilter)).toEqual([5]);
      expect(matched(engine, 'a=YWJj&c=ywjj', usePrefilter)).toEqual([2, 3, 5]);
    }
  });

  it('rules a rule out by a node union only when no value after its steps can hold its literal', () => {
    const decoding = WafEngine.fromSecLang(`
SecRule ARGS "@rx select" "id:6,phase:2,pass,t:none,t:lowercase"
SecRule ARGS "@rx select" "id:7,phase:2,pass,t:none,t:lowercase,t:urlDecodeUni"`);
    // %73 is `s`: only the decoded value holds the literal; the other values are left as they are.
    for (const usePrefilter of [true, false]) {
      expect(matched(decoding, 'x=1&a=%2573ELECT&y=2', usePrefilter)).toEqual([7]);
      expect(matched(decoding, 'x=1&a=Select&y=2', usePrefilter)).toEqual([6, 7]);
      expect(matched(decoding, 'x=1&a=%2573&y=elect', usePrefilter)).toEqual([]);
    }
  });

  it('transforms and scans each run of equal values once, and gives every value its own result', () => {
    // compressWhitespace is called on `a b` (one space) and returns it unchanged; `a  b` changes.
    // The third and fourth values repeat the first two: each must take its own twin's result.
    const compress = WafEngine.fromSecLang(`
SecRule ARGS "@rx ^a b$" "id:8,phase:2,pass,nolog,t:none,t:compressWhitespace,setvar:tx.hits=+1"
SecRule TX:hits "@eq 4" "id:9,phase:2,pass"
SecRule ARGS "@rx abc" "id:10,phase:2,pass,nolog,t:none,t:urlDecodeUni,setvar:tx.decoded=+1"
SecRule TX:decoded "@eq 2" "id:11,phase:2,pass"`);
    for (const usePrefilter of [true, false]) {
      expect(matched(compress, 'p=a+b&q=a++b&r=a+b&s=a++b', usePrefilter)).toEqual([9]);
      // Distinct values the step makes equal (%61bc and a%62c both decode to abc) share one verdict.
      expect(matched(compress, 'w=zzz&x=%2561bc&y=a%2562c&z=abd', usePrefilter)).toEqual([11]);
    }
  });
});

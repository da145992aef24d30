import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { charClasses } from '../transforms/triggers.js';
import { flattenJson as flattenWithClasses } from './json.js';

/** The arguments and error, after checking the char classes the parser gathered against charClasses. */
function flattenJson(text: string, utf8?: boolean) {
  const { keys, values, keyClasses, valueClasses, error } = utf8 === undefined ? flattenWithClasses(text) : flattenWithClasses(text, utf8);
  expect([...keyClasses!], text).toEqual(keys.map(charClasses));
  expect([...valueClasses!], text).toEqual(values.map(charClasses));
  return { keys, values, error };
}

// The body as the engine holds it: one char per byte.
const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** What JSON.parse and a walk of its objects give (the processor before this one), numbers aside. */
function viaJsonParse(text: string): { keys: string[]; values: string[] } {
  const keys: string[] = [];
  const values: string[] = [];
  const toBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  const walk = (v: unknown, name: string) => {
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, `${name}.${i}`));
    else if (v !== null && typeof v === 'object') for (const [k, item] of Object.entries(v)) walk(item, `${name}.${toBytes(k)}`);
    else {
      keys.push(name);
      values.push(v === null ? '' : typeof v === 'string' ? toBytes(v) : String(v));
    }
  };
  walk(JSON.parse(Buffer.from(text, 'latin1').toString('utf8')), 'json');
  return { keys, values };
}

/** A deterministic PRNG (mulberry32): the generated bodies are the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('JSON bodies into arguments', () => {
  it('name members and elements as ModSecurity does', () => {
    expect(flattenJson('{"a":{"b":[1,"x",null,true,false]}}')).toEqual({
      keys: ['json.a.b.0', 'json.a.b.1', 'json.a.b.2', 'json.a.b.3', 'json.a.b.4'],
      values: ['1', 'x', '', 'true', 'false'],
      error: undefined,
    });
    expect(flattenJson(' "scalar" ')).toEqual({ keys: ['json'], values: ['scalar'], error: undefined });
    expect(flattenJson('{"a":{},"b":[],"c":[[]]}')).toEqual({ keys: [], values: [], error: undefined });
    // A lone `.` is a class of its own (what normalizePath changes); a name holding one is not.
    expect(flattenJson('{".":".","A":[".",-1E5]}').values).toEqual(['.', '.', '-1E5']);
  });

  it('give every repeated name to the rules, in the order written (JSON.parse kept the last one)', () => {
    const attack = "1' UNION SELECT password FROM users--";
    const body = flattenJson(`{"q":${JSON.stringify(attack)},"q":"x","b":1,"2":2,"a":{"q":3,"q":4}}`);
    expect(body.keys).toEqual(['json.q', 'json.q', 'json.b', 'json.2', 'json.a.q', 'json.a.q']);
    expect(body.values).toEqual([attack, 'x', '1', '2', '3', '4']);
    expect(viaJsonParse(`{"q":${JSON.stringify(attack)},"q":"x"}`).values).toEqual(['x']);
  });

  it('give numbers as written, as yajl hands them to ModSecurity', () => {
    const body = flattenJson('[1.50, 1e999, -0, 12345678901234567890, 2E+3, 0.5e-1]');
    expect(body.values).toEqual(['1.50', '1e999', '-0', '12345678901234567890', '2E+3', '0.5e-1']);
    expect(body.error).toBeUndefined();
  });

  it('give non-ASCII names and values as their UTF-8 bytes, written raw or as escapes', () => {
    const raw = flattenJson(bytes('{"café":"é<"}'));
    const escaped = flattenJson('{"caf\\u00e9":"\\u00e9\\u003c"}');
    expect(raw).toEqual({ keys: ['json.caf\xc3\xa9'], values: ['\xc3\xa9<'], error: undefined });
    expect(escaped).toEqual(raw);
    expect(flattenJson('{"q":"\\u0027 or 1=1"}').values).toEqual(["' or 1=1"]);
    // A surrogate pair is one code point (4 bytes); a lone surrogate U+FFFD; the short escapes.
    expect(flattenJson('["\\ud83d\\ude00", "\\ud800x", "\\"\\\\\\/\\b\\f\\n\\r\\t"]').values).toEqual([bytes('😀'), bytes('\ufffdx'), '"\\/\b\f\n\r\t']);
  });

  it('refuse a body that is not UTF-8, as yajl does, keeping its arguments for the rules', () => {
    const latin1 = '{"q":"caf\xe9"}';
    expect(flattenJson(latin1)).toEqual({ keys: ['json.q'], values: ['caf\xe9'], error: 'JSON parsing error: the body is not valid UTF-8' });
    // The caller's word, when it checked the body's bytes itself.
    expect(flattenJson(latin1, true).error).toBeUndefined();
  });

  it('refuse what lenient parsers accept, keeping the arguments read before the error', () => {
    const lenient: [string, string][] = [
      ['{"q":"attack","n":1,}', 'expected a member name at byte 20'],
      ["{'q':'attack'}", 'expected a member name at byte 1'],
      ['{"q":"attack","n":NaN}', 'unexpected character at byte 18'],
      ['{"q":"attack" /* c */}', "expected ',' or '}' at byte 14"],
      ['{"q":"attack","n":01}', "expected ',' or '}' at byte 19"],
      ['{"q":"attack","n":+1}', 'unexpected character at byte 18'],
      ['{"q":"attack","n":.5}', 'unexpected character at byte 18'],
      ['{"q":"attack","n":1.}', 'invalid number at byte 20'],
      ['{"q":"attack","s":"a\tb"}', 'control character in a string at byte 20'],
      ['{"q":"attack","s":"\\x41"}', 'invalid escape at byte 19'],
      ['{"q":"attack","s":"\\u12g4"}', 'invalid \\u escape at byte 23'],
      ['{"q":"attack","s":"open', 'unterminated string at byte 23'],
      ['{"q":"attack"', "expected ',' or '}' at byte 13"],
      ['{"q":"attack"} {"r":1}', 'unexpected character after the value at byte 15'],
      ['\xef\xbb\xbf{"q":"attack"}', 'unexpected character at byte 0'],
      ['{"q":"attack","t":True}', 'unexpected character at byte 18'],
    ];
    for (const [text, error] of lenient) {
      const body = flattenJson(text);
      expect(body.error, text).toBe(`JSON parsing error: ${error}`);
      // What the rules still read: the value before the error, where there was one.
      expect(body.values[0], text).toBe(text.startsWith('{"') ? 'attack' : undefined);
      expect(() => JSON.parse(text), text).toThrow();
    }
    expect(flattenJson('').error).toBe('JSON parsing error: unexpected end of the body at byte 0');
  });

  it('end a body nested too deep, with the arguments found before it', () => {
    const deep = flattenJson(`{"a":1,"b":${'['.repeat(70)}${']'.repeat(70)}}`);
    expect(deep).toEqual({ keys: ['json.a'], values: ['1'], error: 'JSON nesting too deep' });
    expect(flattenJson(`${'['.repeat(64)}1${']'.repeat(64)}`).error).toBeUndefined();
    expect(flattenJson(`${'['.repeat(65)}1${']'.repeat(65)}`).error).toBe('JSON nesting too deep');
  });

  it('give each body its own arguments, whatever the bodies before it held or how they failed', () => {
    const big = flattenJson(JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ id: i, note: `n${i}` })) }));
    expect(big.keys).toHaveLength(80);
    flattenJson(`{"a":1,"b":${'['.repeat(70)}`);
    const small = flattenJson('{"x":"y","z":[true]}');
    expect(small).toEqual({ keys: ['json.x', 'json.z.0'], values: ['y', 'true'], error: undefined });
    // What a body returned is its own: the next body does not change it.
    flattenJson('{"other":"values"}');
    expect(small).toEqual({ keys: ['json.x', 'json.z.0'], values: ['y', 'true'], error: undefined });
    expect(big.values.slice(0, 4)).toEqual(['0', 'n0', '1', 'n1']);
    // Past the size kept between bodies (4,096), and the one after it.
    const huge = flattenJson(JSON.stringify(Array.from({ length: 5000 }, (_, i) => i)));
    expect(huge.values).toHaveLength(5000);
    expect(huge.values[4999]).toBe('4999');
    expect(flattenJson('[7]')).toEqual({ keys: ['json.0'], values: ['7'], error: undefined });
  });

  it('accept exactly what JSON.parse accepts, and read the same values, on generated and mutated bodies', () => {
    const random = prng(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const chars = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', 'é', '€', '😀', '\u0001', '<', "'"];
    const gen = (depth: number): unknown => {
      const kind = depth > 3 ? Math.floor(random() * 4) : Math.floor(random() * 6);
      if (kind === 0) return Array.from({ length: Math.floor(random() * 5) }, () => pick(chars)).join('');
      if (kind === 1) return pick([0, -1, 1.5, 1e21, -2.5e-7, 123456789]);
      if (kind === 2) return pick([true, false]);
      if (kind === 3) return null;
      if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => gen(depth + 1));
      // Names that JSON.parse keeps in order and apart: not integer-like, not repeated.
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [`k${i}${pick(chars)}`, gen(depth + 1)]));
    };
    let accepted = 0;
    let refused = 0;
    for (let n = 0; n < 400; n++) {
      const text = bytes(JSON.stringify(gen(0), null, pick([undefined, 1, '\t', ' \r\n'])));
      const body = flattenJson(text);
      expect(body.error, text).toBeUndefined();
      expect({ keys: body.keys, values: body.values }, text).toEqual(viaJsonParse(text));
      // Mutations: a char deleted, replaced or inserted; acceptance must agree with JSON.parse.
      for (let m = 0; m < 5; m++) {
        const at = Math.floor(random() * (text.length + 1));
        const ch = pick(['"', ',', ':', '[', ']', '{', '}', '0', '-', '.', 'e', '\\', 'u', ' ', 'x', 't', 'n']);
        const op = Math.floor(random() * 3);
        const mutated = op === 0 ? text.slice(0, at) + text.slice(at + 1) : op === 1 ? text.slice(0, at) + ch + text.slice(at + 1) : text.slice(0, at) + ch + text.slice(at);
        // JSON.parse reads a string: bytes that are not UTF-8 would reach it as U+FFFD, and are refused here.
        let parsed = isUtf8(Buffer.from(mutated, 'latin1'));
        try {
          JSON.parse(Buffer.from(mutated, 'latin1').toString('utf8'));
        } catch {
          parsed = false;
        }
        const ours = flattenJson(mutated);
        expect(ours.error === undefined, mutated).toBe(parsed);
        if (parsed) accepted++;
        else refused++;
        // Without repeated names, the same arguments (numbers compared as numbers: ours are as written).
        const ref = parsed ? viaJsonParse(mutated) : undefined;
        if (ref !== undefined && ref.keys.length === ours.keys.length) {
          expect(ours.keys, mutated).toEqual(ref.keys);
          ours.values.forEach((v, i) => expect(v === ref.values[i] || Number(v) === Number(ref.values[i]), mutated).toBe(true));
        }
      }
    }
    // Both sides of the grammar were exercised.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1000);
  });
});

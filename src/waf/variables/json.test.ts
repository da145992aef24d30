import { describe, expect, it } from 'vitest';
import { flattenJson } from './json.js';

// The body as the engine holds it: one char per byte.
const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('JSON bodies into arguments', () => {
  it('name members and elements as ModSecurity does, on the ASCII fast path', () => {
    expect(flattenJson('{"a":{"b":[1,"x",null,true]}}')).toEqual({
      keys: ['json.a.b.0', 'json.a.b.1', 'json.a.b.2', 'json.a.b.3'],
      values: ['1', 'x', '', 'true'],
    });
  });

  it('give non-ASCII names and values as their UTF-8 bytes, written raw or as escapes', () => {
    const raw = flattenJson(bytes('{"café":"é<"}'));
    const escaped = flattenJson('{"caf\\u00e9":"\\u00e9\\u003c"}');
    expect(raw).toEqual({ keys: ['json.caf\xc3\xa9'], values: ['\xc3\xa9<'] });
    expect(escaped).toEqual(raw);
    // An escape of an ASCII char in an otherwise ASCII body.
    expect(flattenJson('{"q":"\\u0027 or 1=1"}')).toEqual({ keys: ['json.q'], values: ["' or 1=1"] });
  });

  it("take the caller's word on whether the bytes are ASCII, and decode when they are not", () => {
    expect(flattenJson(bytes('{"café":"é<"}'), false)).toEqual({ keys: ['json.caf\xc3\xa9'], values: ['\xc3\xa9<'] });
    expect(flattenJson('{"a":"b"}', true)).toEqual(flattenJson('{"a":"b"}'));
  });

  it('give each body its own arguments, whatever the bodies before it held or how they failed', () => {
    const big = flattenJson(JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ id: i, note: `n${i}` })) }));
    expect(big.keys).toHaveLength(80);
    // Too deep: thrown from inside the walk, after arguments were found.
    const deep = `{"a":1,"b":${'['.repeat(70)}${']'.repeat(70)}}`;
    expect(() => flattenJson(deep)).toThrow('JSON nesting too deep');
    const small = flattenJson('{"x":"y","z":[true]}');
    expect(small).toEqual({ keys: ['json.x', 'json.z.0'], values: ['y', 'true'] });
    // What a body returned is its own: the next body does not change it.
    flattenJson('{"other":"values"}');
    expect(small).toEqual({ keys: ['json.x', 'json.z.0'], values: ['y', 'true'] });
    expect(big.values.slice(0, 4)).toEqual(['0', 'n0', '1', 'n1']);
    // Past the size kept between bodies (4,096), and the one after it.
    const huge = flattenJson(JSON.stringify(Array.from({ length: 5000 }, (_, i) => i)));
    expect(huge.values).toHaveLength(5000);
    expect(huge.values[4999]).toBe('4999');
    expect(flattenJson('[7]')).toEqual({ keys: ['json.0'], values: ['7'] });
  });
});

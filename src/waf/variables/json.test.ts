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
});

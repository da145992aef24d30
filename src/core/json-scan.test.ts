import { describe, expect, it } from 'vitest';
import { DEFAULT_JSON_LIMITS, scanJson, type JsonLimits } from './json-scan.js';

const limits = (overrides: Partial<JsonLimits> = {}): JsonLimits => ({ ...DEFAULT_JSON_LIMITS, ...overrides });
const scan = (text: string, overrides: Partial<JsonLimits> = {}) => scanJson(text, limits(overrides));

describe('scanJson structure limits', () => {
  it('passes an ordinary document', () => {
    expect(scan('{"a":[1,2,{"b":"c\\"}"}],"d":{"e":null}}')).toBeUndefined();
  });

  it('refuses nesting one level past maxDepth and accepts it at the limit', () => {
    expect(scan('[[[1]]]', { maxDepth: 3 })).toBeUndefined();
    expect(scan('[[[[1]]]]', { maxDepth: 3 })).toEqual({ kind: 'limit', limit: 'maxDepth', offset: 3 });
    expect(scan('{"a":{"b":{"c":{}}}}', { maxDepth: 3 })).toMatchObject({ limit: 'maxDepth' });
  });

  it('scans 200,000 levels of nesting without overflowing the stack', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(scan(deep)).toMatchObject({ kind: 'limit', limit: 'maxDepth', offset: 64 });
    expect(scan(deep, { maxDepth: 200_000 })).toBeUndefined();
  });

  it('refuses an object with more keys than maxKeys', () => {
    const keys = (n: number) => '{' + Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',') + '}';
    expect(scan(keys(10), { maxKeys: 10 })).toBeUndefined();
    expect(scan(keys(11), { maxKeys: 10 })).toMatchObject({ kind: 'limit', limit: 'maxKeys' });
  });

  it('refuses 200,000 keys in one object under the default limit', () => {
    const huge = '{' + Array.from({ length: 200_000 }, (_, i) => `"k${i}":0`).join(',') + '}';
    expect(scan(huge)).toMatchObject({ kind: 'limit', limit: 'maxKeys' });
  });

  it('counts keys per object, not across siblings', () => {
    expect(scan('[{"a":1,"b":2},{"a":1,"b":2}]', { maxKeys: 2 })).toBeUndefined();
  });

  it('refuses a string value or a key longer than maxStringLength', () => {
    expect(scan(`{"a":"${'x'.repeat(8)}"}`, { maxStringLength: 8 })).toBeUndefined();
    expect(scan(`{"a":"${'x'.repeat(9)}"}`, { maxStringLength: 8 })).toMatchObject({ limit: 'maxStringLength', offset: 5 });
    expect(scan(`{"${'k'.repeat(9)}":1}`, { maxStringLength: 8 })).toMatchObject({ limit: 'maxStringLength', offset: 1 });
  });

  it('refuses an array with more elements than maxArrayLength, nested or not', () => {
    expect(scan('[1,2,3]', { maxArrayLength: 3 })).toBeUndefined();
    expect(scan('[1,2,3,4]', { maxArrayLength: 3 })).toMatchObject({ limit: 'maxArrayLength' });
    expect(scan('{"a":[[1,2,3,4]]}', { maxArrayLength: 3 })).toMatchObject({ limit: 'maxArrayLength' });
  });

  it('does not count commas inside strings as elements', () => {
    expect(scan('["a,b,c,d,e"]', { maxArrayLength: 1 })).toBeUndefined();
  });

  it('ends a string at the first quote after an even run of backslashes, never inside one', () => {
    // Four elements: a backslash, x",y, \", and z; the commas after escaped quotes are string content.
    const text = String.raw`["\\", "x\",y", "\\\",", "z"]`;
    expect(JSON.parse(text)).toHaveLength(4);
    expect(scan(text, { maxArrayLength: 4 })).toBeUndefined();
    expect(scan(text, { maxArrayLength: 3 })).toMatchObject({ kind: 'limit', limit: 'maxArrayLength' });
    expect(scan(String.raw`{"a\\":1,"a\\":2}`)).toMatchObject({ kind: 'duplicate-key' });
    expect(scan(String.raw`{"a\\":1,"a\"":2}`)).toBeUndefined();
  });
});

describe('scanJson duplicate and forbidden keys', () => {
  it('refuses a duplicate key in one object', () => {
    expect(scan('{"role":"user","role":"admin"}')).toEqual({ kind: 'duplicate-key', offset: 15 });
  });

  it('refuses a duplicate key written with an escape ("\\u0061" is "a")', () => {
    expect(scan('{"a":1,"\\u0061":2}')).toMatchObject({ kind: 'duplicate-key' });
  });

  it('allows the same key in different objects and a key equal to a value', () => {
    expect(scan('{"a":{"a":"a"},"b":{"a":1}}')).toBeUndefined();
  });

  it('refuses __proto__, constructor and prototype keys at any depth', () => {
    expect(scan('{"__proto__":{"isAdmin":true}}')).toMatchObject({ kind: 'forbidden-key' });
    expect(scan('{"a":[{"b":{"c":{"constructor":{"prototype":{"x":1}}}}}]}')).toMatchObject({ kind: 'forbidden-key' });
    const deep = '{"a":'.repeat(40) + '{"__proto__":1}' + '}'.repeat(40);
    expect(scan(deep)).toMatchObject({ kind: 'forbidden-key' });
  });

  it('refuses __proto__ hidden behind a unicode escape', () => {
    expect(scan('{"\\u005f_proto__":{}}')).toMatchObject({ kind: 'forbidden-key' });
  });

  it('allows those words as string values', () => {
    expect(scan('{"name":"__proto__","list":["constructor"]}')).toBeUndefined();
  });
});

describe('scanJson on invalid text', () => {
  it('returns no verdict on broken syntax and leaves it to JSON.parse', () => {
    for (const text of ['{"a":', '"unterminated', ']]]', '{"\\u00zz":1}']) expect(scan(text)).toBeUndefined();
  });
});

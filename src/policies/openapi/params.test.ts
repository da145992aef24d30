import { describe, expect, it } from 'vitest';
import { parseCookies, parsePathValue, parseQuery, parseQueryValue, type ParamSerialisation, type ParamShape, type ParamStyle } from './params.js';

/**
 * The "Style Examples" table of the OpenAPI specification (3.1 section 4.8.12.4, same in 3.0) for
 * a parameter named `color` holding "blue", ["blue", "black", "brown"] or {R: 100, G: 200, B: 150}.
 */
const PRIMITIVE = 'blue';
const ARRAY = ['blue', 'black', 'brown'];
const OBJECT = { R: '100', G: '200', B: '150' };

function param(style: ParamStyle, explode: boolean, shape: ParamShape, location: 'path' | 'query' = 'path'): ParamSerialisation {
  return { name: 'color', in: location, style, explode, shape, properties: ['R', 'G', 'B'] };
}

const PATH_TABLE: [ParamStyle, boolean, string, string, string][] = [
  ['matrix', false, ';color=blue', ';color=blue,black,brown', ';color=R,100,G,200,B,150'],
  ['matrix', true, ';color=blue', ';color=blue;color=black;color=brown', ';R=100;G=200;B=150'],
  ['label', false, '.blue', '.blue,black,brown', '.R,100,G,200,B,150'],
  ['label', true, '.blue', '.blue.black.brown', '.R=100.G=200.B=150'],
  ['simple', false, 'blue', 'blue,black,brown', 'R,100,G,200,B,150'],
  ['simple', true, 'blue', 'blue,black,brown', 'R=100,G=200,B=150'],
];

describe('path parameter styles (OpenAPI style examples)', () => {
  for (const [style, explode, primitive, array, object] of PATH_TABLE) {
    it(`reads ${style} explode=${explode} for a primitive, an array and an object`, () => {
      expect(parsePathValue(param(style, explode, 'primitive'), primitive)).toEqual(PRIMITIVE);
      expect(parsePathValue(param(style, explode, 'array'), array)).toEqual(ARRAY);
      expect({ ...(parsePathValue(param(style, explode, 'object'), object) as object) }).toEqual(OBJECT);
    });
  }

  it('refuses a label or matrix value without its leading mark or with another name', () => {
    expect(parsePathValue(param('label', false, 'primitive'), 'blue')).toBeUndefined();
    expect(parsePathValue(param('matrix', false, 'primitive'), ';colour=blue')).toBeUndefined();
  });
});

const QUERY_TABLE: [ParamStyle, boolean, string | undefined, string, string][] = [
  ['form', false, 'color=blue', 'color=blue,black,brown', 'color=R,100,G,200,B,150'],
  ['form', true, 'color=blue', 'color=blue&color=black&color=brown', 'R=100&G=200&B=150'],
  ['spaceDelimited', false, undefined, 'color=blue%20black%20brown', 'color=R%20100%20G%20200%20B%20150'],
  ['pipeDelimited', false, undefined, 'color=blue|black|brown', 'color=R|100|G|200|B|150'],
];

describe('query parameter styles (OpenAPI style examples)', () => {
  const read = (p: ParamSerialisation, query: string) => {
    const value = parseQueryValue(p, parseQuery(query), new Set());
    return typeof value === 'object' && !Array.isArray(value) ? { ...value } : value;
  };
  for (const [style, explode, primitive, array, object] of QUERY_TABLE) {
    it(`reads ${style} explode=${explode}`, () => {
      if (primitive !== undefined) expect(read(param(style, explode, 'primitive', 'query'), primitive)).toEqual(PRIMITIVE);
      expect(read(param(style, explode, 'array', 'query'), array)).toEqual(ARRAY);
      expect(read(param(style, explode, 'object', 'query'), object)).toEqual(OBJECT);
    });
  }

  it('reads deepObject color[R]=100&color[G]=200&color[B]=150 and marks those names used', () => {
    const used = new Set<string>();
    const value = parseQueryValue(param('deepObject', true, 'object', 'query'), parseQuery('color[R]=100&color[G]=200&color[B]=150&other=1'), used);
    expect({ ...(value as object) }).toEqual(OBJECT);
    expect([...used].sort()).toEqual(['color[B]', 'color[G]', 'color[R]']);
  });

  it('reads an empty array and a missing parameter differently', () => {
    expect(read(param('form', false, 'array', 'query'), 'color=')).toEqual([]);
    expect(read(param('form', false, 'array', 'query'), 'other=1')).toBeUndefined();
  });
});

describe('cookies', () => {
  it('splits the Cookie header and percent-decodes values', () => {
    expect(parseCookies('a=1; session=abc%20def;b=2').get('session')).toEqual(['abc def']);
  });
});

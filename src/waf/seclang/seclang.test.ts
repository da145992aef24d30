import { describe, expect, it } from 'vitest';
import { lexSecLang } from './lexer.js';
import { parseActions } from './actions-parse.js';
import { parseOperator, parseVariables } from './variables-parse.js';

describe('SecLang lexer', () => {
  it('joins backslash-continued lines and skips comments, keeping the first line number', () => {
    const text = '# comment\nSecRule ARGS "@rx a" \\\n    "id:1,\\\n    phase:2"\n\nSecMarker END\n';
    const ds = lexSecLang(text, 'f.conf');
    expect(ds.map((d) => d.name)).toEqual(['SecRule', 'SecMarker']);
    expect(ds[0]!.args).toEqual(['ARGS', '@rx a', 'id:1,    phase:2']);
    expect(ds[0]!.where).toBe('f.conf:2');
  });

  it('reads \\" inside a double-quoted argument as a quote and keeps other backslashes', () => {
    const [d] = lexSecLang('SecRule ARGS "@rx a\\"b\\d" "id:2"', 'x');
    expect(d!.args[1]).toBe('@rx a"b\\d');
  });

  it('refuses an unterminated quote with the location', () => {
    expect(() => lexSecLang('SecRule ARGS "@rx a', 'bad.conf')).toThrow(/bad\.conf:1: unterminated/);
  });
});

describe('SecLang actions, targets and operators', () => {
  it('splits actions on commas outside single quotes and unescapes \\\'', () => {
    const actions = parseActions("id:1,msg:'a, b',setvar:'tx.x=+%{tx.y}',logdata:'it\\'s',pass", 'x');
    expect(actions).toEqual([
      { name: 'id', value: '1' },
      { name: 'msg', value: 'a, b' },
      { name: 'setvar', value: 'tx.x=+%{tx.y}' },
      { name: 'logdata', value: "it's" },
      { name: 'pass', value: '' },
    ]);
  });

  it('parses exclusions, counts, regex keys containing | and XPath keys', () => {
    const vars = parseVariables('ARGS|!ARGS:foo|&TX:x|REQUEST_COOKIES:/^(a|b)$/|XML:/*', 'x');
    expect(vars.map((v) => [v.collection, v.key, v.keyIsRegex, v.exclude, v.count])).toEqual([
      ['ARGS', undefined, false, false, false],
      ['ARGS', 'foo', false, true, false],
      ['TX', 'x', false, false, true],
      ['REQUEST_COOKIES', '^(a|b)$', true, false, false],
      ['XML', '/*', false, false, false],
    ]);
  });

  it('reads negation, an implicit @rx and the parameter', () => {
    expect(parseOperator('!@within %{tx.allowed_methods}')).toEqual({ name: 'within', negated: true, param: '%{tx.allowed_methods}' });
    expect(parseOperator('^abc$')).toEqual({ name: 'rx', negated: false, param: '^abc$' });
    expect(parseOperator('@unconditionalMatch')).toEqual({ name: 'unconditionalMatch', negated: false, param: '' });
  });
});

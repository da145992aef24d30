import { SecLangSyntaxError } from './lexer.js';

/** One element of a rule's target list: `ARGS`, `ARGS:id`, `!ARGS:id`, `&TX:x`, `ARGS:/^re$/`. */
export interface RawVariable {
  readonly collection: string;
  readonly key: string | undefined;
  readonly keyIsRegex: boolean;
  readonly exclude: boolean;
  readonly count: boolean;
}

/** Reads a regex key `/.../` starting at `start` (the opening slash); returns the body and the index after it. */
function readRegexKey(text: string, start: number, where: string): [string, number] {
  let i = start + 1;
  let body = '';
  while (i < text.length && text[i] !== '/') {
    if (text[i] === '\\' && i + 1 < text.length) {
      body += text[i]! + text[i + 1]!;
      i += 2;
      continue;
    }
    body += text[i++];
  }
  if (i >= text.length) throw new SecLangSyntaxError(where, `unterminated regular expression in target ${text}`);
  return [body, i + 1];
}

/** Parses `VAR|VAR:key|!VAR:/re/|&VAR` (a `|` inside a regex key does not split). */
export function parseVariables(text: string, where: string): RawVariable[] {
  const out: RawVariable[] = [];
  let i = 0;
  while (i < text.length) {
    let exclude = false;
    let count = false;
    while (text[i] === '!' || text[i] === '&') {
      if (text[i] === '!') exclude = true;
      else count = true;
      i++;
    }
    let collection = '';
    while (i < text.length && text[i] !== ':' && text[i] !== '|') collection += text[i++];
    let key: string | undefined;
    let keyIsRegex = false;
    if (text[i] === ':') {
      i++;
      // XML keys are XPath expressions (`XML:/*`), never regular expressions.
      if (text[i] === '/' && collection.trim().toUpperCase() !== 'XML') {
        [key, i] = readRegexKey(text, i, where);
        keyIsRegex = true;
      } else if (text[i] === "'") {
        const end = text.indexOf("'", i + 1);
        if (end === -1) throw new SecLangSyntaxError(where, `unterminated quote in target ${text}`);
        key = text.slice(i + 1, end);
        i = end + 1;
      } else {
        key = '';
        while (i < text.length && text[i] !== '|') key += text[i++];
      }
    }
    if (collection === '') throw new SecLangSyntaxError(where, `empty target in ${text}`);
    out.push({ collection: collection.trim().toUpperCase(), key, keyIsRegex, exclude, count });
    if (text[i] === '|') i++;
  }
  return out;
}

/** Splits `"!@rx ^a b"` into operator name, negation and parameter; no `@` means `@rx`. */
export function parseOperator(text: string): { name: string; negated: boolean; param: string } {
  let s = text.trimStart();
  let negated = false;
  if (s.startsWith('!')) {
    negated = true;
    s = s.slice(1).trimStart();
  }
  if (!s.startsWith('@')) return { name: 'rx', negated, param: s };
  const space = s.search(/\s/);
  if (space === -1) return { name: s.slice(1), negated, param: '' };
  return { name: s.slice(1, space), negated, param: s.slice(space + 1).trimStart() };
}

import { SecLangSyntaxError } from './lexer.js';

export interface RawAction {
  readonly name: string;
  /** The value with its single quotes removed, or '' for a flag action (`pass`, `chain`). */
  readonly value: string;
}

/**
 * Parses a SecLang action list (`id:1,phase:2,msg:'a, b',setvar:'tx.x=+%{tx.y}'`): actions are
 * separated by commas outside single quotes; a value may be single-quoted, where `\'` is a quote.
 */
export function parseActions(text: string, where: string): RawAction[] {
  const actions: RawAction[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === ',')) i++;
    if (i >= n) break;
    let name = '';
    while (i < n && text[i] !== ':' && text[i] !== ',') name += text[i++];
    let value = '';
    if (text[i] === ':') {
      i++;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (text[i] === "'") {
        i++;
        while (i < n && text[i] !== "'") {
          if (text[i] === '\\' && text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          value += text[i++];
        }
        if (i >= n) throw new SecLangSyntaxError(where, `unterminated quote in action ${name.trim()}`);
        i++;
        while (i < n && text[i] !== ',') i++;
      } else {
        while (i < n && text[i] !== ',') value += text[i++];
        value = value.trim();
      }
    }
    actions.push({ name: name.trim().toLowerCase(), value });
  }
  return actions;
}

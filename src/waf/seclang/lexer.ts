/**
 * SecLang lexer: turns a ModSecurity configuration file into directives (a name and its
 * arguments), the way ModSecurity's own parser reads them: a backslash at the end of a line joins
 * it to the next, `#` starts a comment line, arguments are bare words or double-quoted strings in
 * which `\"` stands for a quote (every other backslash is kept for the operator or action parser).
 */

export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  /** Where the directive starts, for load errors: `file:line`. */
  readonly where: string;
}

export class SecLangSyntaxError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'SecLangSyntaxError';
  }
}

/** Joins continued lines and drops comments and blank lines; keeps the first line number of each directive. */
function logicalLines(text: string): { line: string; lineNo: number }[] {
  const out: { line: string; lineNo: number }[] = [];
  const physical = text.split(/\r?\n/);
  let buffer = '';
  let startLine = 0;
  for (let i = 0; i < physical.length; i++) {
    const raw = physical[i] ?? '';
    if (buffer === '') {
      const trimmed = raw.trimStart();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      startLine = i + 1;
    }
    if (raw.endsWith('\\')) {
      buffer += raw.slice(0, -1);
      continue;
    }
    buffer += raw;
    out.push({ line: buffer.trim(), lineNo: startLine });
    buffer = '';
  }
  if (buffer.trim() !== '') out.push({ line: buffer.trim(), lineNo: startLine });
  return out;
}

/** Splits one logical line into words; double-quoted words may contain spaces and `\"`. */
export function splitArguments(line: string, where: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"') {
      let word = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && line[i + 1] === '"') {
          word += '"';
          i += 2;
          continue;
        }
        word += line[i];
        i++;
      }
      if (i >= line.length) throw new SecLangSyntaxError(where, 'unterminated double-quoted argument');
      i++;
      words.push(word);
      continue;
    }
    let word = '';
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') word += line[i++];
    words.push(word);
  }
  return words;
}

export function lexSecLang(text: string, file: string): Directive[] {
  return logicalLines(text).map(({ line, lineNo }) => {
    const where = `${file}:${lineNo}`;
    const [name, ...args] = splitArguments(line, where);
    return { name: name ?? '', args, where };
  });
}

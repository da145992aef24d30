import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue, fieldName } from './config-error.js';

/** A parsed YAML file that can say where any path in it came from. */
export class ConfigSource {
  private readonly lines = new LineCounter();
  private readonly doc: Document;

  constructor(
    readonly file: string,
    text: string,
  ) {
    // uniqueKeys: a duplicated key is an error, not a silent "last one wins".
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: true });
    if (this.doc.errors.length > 0) {
      throw new ConfigError(
        this.doc.errors.map((e) => ({
          file,
          line: e.linePos?.[0].line,
          column: e.linePos?.[0].col,
          field: '',
          message: e.message.split('\n')[0] ?? e.message,
        })),
      );
    }
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /** The issue for `path`, located at the deepest node of that path present in the file. */
  issue(path: readonly (string | number)[], message: string): ConfigIssue {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        const pos = this.lines.linePos(node.range[0]);
        return { file: this.file, line: pos.line, column: pos.col, field: fieldName(path), message };
      }
    }
    return { file: this.file, line: undefined, column: undefined, field: fieldName(path), message };
  }
}

/** JSON pointer (`/routes/0/forward`) to path segments, numbers for array indexes. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/** Reads a config file; an unreadable one is a ConfigError naming the file and the reason. */
export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ file: path, line: undefined, column: undefined, field: '', message: `cannot read file (${reason})` }]);
  }
}

import type { Macro } from '../types.js';
import { intern } from '../compile/intern.js';

/**
 * Compiles `%{tx.anomaly_score}`, `%{MATCHED_VAR}`, `%{REQUEST_HEADERS.host}`, `%{rule.id}` into
 * literal parts and references, once at load; the engine resolves references per transaction.
 * Keys are lower-cased here (collection keys are case-insensitive): resolving folds no case.
 */
export function compileMacro(text: string): Macro {
  const parts: Macro[number][] = [];
  let last = 0;
  const re = /%\{([^}]+)\}/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const ref = m[1]!;
    const dot = ref.search(/[.:]/);
    parts.push(dot === -1 ? { collection: intern(ref.toUpperCase()), key: undefined } : { collection: intern(ref.slice(0, dot).toUpperCase()), key: intern(ref.slice(dot + 1).toLowerCase()) });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** True when the macro is plain text (no reference to resolve). */
export function isLiteral(macro: Macro): boolean {
  return macro.every((part) => typeof part === 'string');
}

export function literalOf(macro: Macro): string {
  return macro.map((p) => (typeof p === 'string' ? p : '')).join('');
}

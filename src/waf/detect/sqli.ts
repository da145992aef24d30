import { tokenizeSql, type SqlToken } from './sql-tokens.js';
import { mayHoldUnquotedSqli } from './sqli-gate.js';

/**
 * `@detectSQLi`: tokenizes the value as SQL three ways (as is, and as the continuation of a
 * single- or double-quoted string, the two places an application pastes a parameter) and flags
 * fingerprints with the shape of an injection: a quote closed then followed by logic, union,
 * statements or comments; tautologies after a number; UNION SELECT; stacked statements; calls to
 * the functions blind injection relies on. Heuristic shapes, not libinjection's fingerprint
 * list: measured against the CRS 942 family (docs/waf.md).
 */

/** Drops operators that only negate or sign a value (`-1`, `!1`) so `1 or -1=1` reads as `1&1o1`. */
function fingerprint(tokens: readonly SqlToken[]): string {
  let fp = '';
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const prev = fp[fp.length - 1];
    if (t.type === 'o' && (t.text === '-' || t.text === '+' || t.text === '!' || t.text === '~') && (prev === undefined || '&o(,'.includes(prev)) && '1sn('.includes(tokens[k + 1]?.type ?? '')) continue;
    fp += t.type;
  }
  return fp;
}

const ANY_CONTEXT: readonly RegExp[] = [
  /U(?:[kn])?[E(]/, // UNION [ALL|DISTINCT] SELECT / UNION (
  /;[Ef]/, // stacked statement
  /^1\)*&[1sfv(]/, // 1 OR 1=1, 1) and (...
  /^1\)*[oU;]?E/, // 1 select, 1;select
  /^[1n]?\)*o?f\(/, // sleep(...), 1+sleep(
  /^[&o]f\(/,
  /^\)+[&;U]/, // ') or ...
];

const QUOTED: readonly RegExp[] = [
  /^s\)*[&;c]/, // ' or ..., '; ..., '--
  /^s\)*E/, // ') waitfor ...
  /^s\)*o[1snvf(&]/, // '+sleep(..., ' | type ..., '=' 
  /^s\)*f\(/, // " sleep(...)
  /^s\)*k[1snv(]/, // ' having 1, ' limit 1
];

function matches(tokens: readonly SqlToken[], quoted: boolean): string | undefined {
  const fp = fingerprint(tokens).slice(0, 8);
  // A comment databases read differently (sql-tokens.ts): libinjection's fingerprint `X`, alone too.
  if (fp.includes('X')) return fp;
  if (tokens.length < 2) return undefined;
  for (const re of ANY_CONTEXT) if (re.test(fp)) return fp;
  if (quoted) for (const re of QUOTED) if (re.test(fp)) return fp;
  return undefined;
}

/** The fingerprint of the injection found, or undefined. */
export function detectSqli(input: string): string | undefined {
  return detect(input, true);
}

/** detectSqli without the quick pre-check of its unquoted reading (sqli-gate.ts): what detect.test.ts compares it with. */
export function detectSqliUngated(input: string): string | undefined {
  return detect(input, false);
}

function detect(input: string, gated: boolean): string | undefined {
  if (input.length < 2) return undefined;
  const value = input.length > 2048 ? input.slice(0, 2048) : input;
  return (
    (gated && !mayHoldUnquotedSqli(value) ? undefined : matches(tokenizeSql(value, ''), false)) ??
    (value.includes("'") ? matches(tokenizeSql(value, "'"), true) : undefined) ??
    (value.includes('"') ? matches(tokenizeSql(value, '"'), true) : undefined)
  );
}

/**
 * A rewrite that keeps V8's backtracking matcher from going quadratic on the CRS's most common
 * slow shape: an unanchored alternative that starts with a repeated character class, such as
 * `[-0-9_a-z]+(?:...)` (932240, 932390, 932290). On a long run of class characters the matcher
 * retries from every position of the run, each time rescanning to its end: O(n^2).
 *
 * Rewrite: `C+REST` -> `(?<!C)C+REST` (and the same for `C*`). Proof of equivalence: if the
 * alternative matches at position p inside a run of C that starts at r < p, it also matches at r
 * (the repetition absorbs r..p-1, REST then matches as before), and r is further left, so the
 * leftmost match (what `exec` returns) already started at a run start. Only starting positions
 * that can never be the leftmost match are removed; captures are unchanged.
 */

import { scanOutside } from './source-scan.js';

/** Splits a JavaScript pattern source at its top-level `|`. */
function topLevelAlternatives(src: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  scanOutside(src, (i, ch) => {
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      out.push(src.slice(start, i));
      start = i + 1;
    }
  });
  out.push(src.slice(start));
  return out;
}

/** The leading single-character atom of an alternative (`[...]`, `\w`, `\d`, `.`), if it is repeated with `+` or `*`. */
function leadingRepeatedAtom(alt: string): string | undefined {
  let atom: string | undefined;
  if (alt.startsWith('[')) {
    let i = 1;
    if (alt[i] === '^') i++;
    if (alt[i] === ']') i++;
    for (; i < alt.length; i++) {
      if (alt[i] === '\\') i++;
      else if (alt[i] === ']') break;
    }
    atom = alt.slice(0, i + 1);
  } else if (/^\\[wdWD]/.test(alt)) atom = alt.slice(0, 2);
  else if (alt.startsWith('.')) atom = '.';
  if (atom === undefined) return undefined;
  const q = alt[atom.length];
  // `+?` / `*?` are lazy: the argument holds for them too, but they are rarely the slow case.
  return q === '+' || q === '*' ? atom : undefined;
}

export function guardLeadingRuns(source: string): string {
  const alternatives = topLevelAlternatives(source);
  let changed = false;
  const rewritten = alternatives.map((alt) => {
    const atom = leadingRepeatedAtom(alt);
    if (atom === undefined) return alt;
    changed = true;
    return `(?<!${atom === '.' ? '[\\s\\S]' : atom})${alt}`;
  });
  return changed ? rewritten.join('|') : source;
}

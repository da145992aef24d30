import { SHAPE_WORDS } from './sql-tokens.js';

/*
 * A quick, exact pre-check for detectSqli's unquoted reading. Every fingerprint shape that reading
 * flags (ANY_CONTEXT in sqli.ts) holds a token of type U, ;, &, E, f or ): a union, a `;`, a logic
 * operator (a word, `||` or `&&`), a statement word, a function (a name before `(`) or a `)`. So a
 * value with none of the chars `; ( ) | &` and none of those words cannot be flagged, and the
 * tokenizer (token objects, a fingerprint, seven regexes) is not run. A 4 KB JSON body has ~400
 * values and nearly all of them pass this check. detect.test.ts compares it with the full reading.
 *
 * A word token is always a maximal run of WORD chars, or starts with `.` after a number (never a
 * keyword): so looking the value's maximal runs up finds every keyword the tokenizer would. NBSP
 * ends a run here: the tokenizer skips it as a space before a token, and no keyword holds one.
 */

const WORD = 1;
const TRIGGER = 2;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c);
  // As the tokenizer reads them: its SPACE (which holds NBSP) is tested before its WORD.
  if ((/[A-Za-z0-9_$.]/.test(ch) || c >= 0x80) && c !== 0xa0) CLASS[c] = WORD;
}
for (const ch of ';()|&') CLASS[ch.charCodeAt(0)] = TRIGGER;

const LONGEST = Math.max(...[...SHAPE_WORDS].map((w) => w.length));

/** False when detectSqli's unquoted reading cannot flag `value`. */
export function mayHoldUnquotedSqli(value: string): boolean {
  let start = -1; // start of the current run of WORD chars
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0;
    // Above 0xff the tokenizer reads a char of its own (`?`): it ends a word, as here.
    const cls = c < 256 ? CLASS[c]! : 0;
    if (cls === TRIGGER) return true;
    if (cls === WORD) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= 2 && i - start <= LONGEST && SHAPE_WORDS.has(value.slice(start, i).toLowerCase())) return true;
    start = -1;
  }
  return false;
}

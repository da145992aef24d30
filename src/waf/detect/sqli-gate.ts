import { SHAPE_WORDS } from './sql-tokens.js';

/*
 * A quick, exact pre-check for detectSqli's unquoted reading. Every fingerprint shape that reading
 * flags (ANY_CONTEXT in sqli.ts) holds a token of type U, ;, &, E, f, ) or X: a union, a `;`, a
 * logic operator (a word, `||` or `&&`), a statement word, a function (a name before `(`), a `)`
 * or an ambiguous comment (it starts `/*`). So a value with none of the chars `; ( ) | &`, no `/*`
 * and none of those words cannot be flagged, and the tokenizer (token objects, a fingerprint,
 * seven regexes) is not run. detect.test.ts compares it with the full reading. The prefilter
 * rules out most values before this check (SQLI_LITERALS below): of a 4 KB JSON body's ~460
 * values, ~60 reach it.
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

/*
 * SHAPE_WORDS as a trie over the letters a-z, walked as a run is read: `state * 26 + letter` gives
 * the next state, 0 none (a run with any other char, or no word's prefix, can be no keyword). A
 * run is a keyword when it ends in an accepting state. Looking each run up as a lower-cased slice
 * in the set cost a slice, a lower-casing and a hash per word: ~12 us of a 4 KB JSON body's
 * ~230 values (`item number 7`). Only ASCII letters lower-case into a keyword's letters: the
 * Latin-1 chars above 0x7f lower-case to chars above 0x7f, and chars above 0xff end a run.
 */
const ROOT = 1;
const trie: number[] = [0, 0];
const accepting: boolean[] = [false, false];
for (const word of SHAPE_WORDS) {
  let state = ROOT;
  for (let i = 0; i < word.length; i++) {
    const slot = state * 26 + word.charCodeAt(i) - 97;
    if ((trie[slot] ?? 0) === 0) {
      trie[slot] = accepting.length;
      accepting.push(false);
    }
    state = trie[slot]!;
  }
  accepting[state] = true;
}
const NEXT = Int16Array.from({ length: accepting.length * 26 }, (_, k) => trie[k] ?? 0);
const ACCEPTS = Uint8Array.from(accepting, (a) => (a ? 1 : 0));

/** False when detectSqli's unquoted reading cannot flag `value`. */
export function mayHoldUnquotedSqli(value: string): boolean {
  let state = ROOT; // where the current run of WORD chars is in the trie (0: no keyword)
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0;
    // Above 0xff the tokenizer reads a char of its own (`?`): it ends a word, as here.
    const cls = c < 256 ? CLASS[c]! : 0;
    if (cls === TRIGGER) return true;
    if (cls === WORD) {
      // Only A-Z and a-z land in 0..25 (digits, `_`, `$`, `.` and bytes above 0x7f do not).
      const letter = (c | 0x20) - 97;
      if (state !== 0) state = letter >= 0 && letter < 26 ? NEXT[state * 26 + letter]! : 0;
      continue;
    }
    if (ACCEPTS[state] === 1) return true;
    // The start of a comment, perhaps an ambiguous one (sql-tokens.ts ambiguousComment).
    if (c === 0x2f && value.charCodeAt(i + 1) === 0x2a) return true;
    state = ROOT;
  }
  return false;
}

/**
 * Every value detectSqli flags holds one of these, in any ASCII case: a trigger char, `/*` or a shape word
 * for its unquoted reading (above), a quote for its quoted ones. The operator gives them to the
 * prefilter as its literal set (engine/prefilter.ts): a value that holds none is not even given to
 * this pre-check. A shape word as part of a longer word (`short`, `note`) still passes the prefilter.
 */
export const SQLI_LITERALS: readonly string[] = [';', '(', ')', '|', '&', "'", '"', '/*', ...SHAPE_WORDS];

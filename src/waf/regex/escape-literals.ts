/**
 * Literal sets for patterns whose plain requirement is a handful of single letters. The CRS's
 * command-injection rules (932230, 932235, 932250, 932260) spell each command with an evasion
 * group between its letters, `b["'\)\[\\]*(?:(?:(?:\|\||&&)\s*)?\$[...]*)?\\?u...`, so no two
 * letters are adjacent in the pattern: the best plain requirement is "one of 20 letters", which
 * every value meets, and the pattern ran on every value of every request.
 *
 * But every non-empty way through an evasion group uses one of a few chars (`"` `'` `)` `[` `\`
 * `$`). In an input without them the groups match nothing, and the pattern needs whole command
 * names. So "one of those chars, or one of the names" holds for every input the pattern matches,
 * and it rules out an ordinary value. `allLiteralSets(source, excluded)` proves such requirements
 * for any set of excluded chars; this file searches for the set that gives the most selective one.
 * Any set is sound: the search only chooses among true requirements.
 */
import { MAX_SETS, allLiteralSets, requiredLiteralSets, withoutImplied } from './literals.js';

type Sets = readonly (readonly string[])[];

/** A plain requirement this likely to pass an ordinary value is kept without a search. */
const GOOD_ENOUGH = 0.05;

/** A rough chance that an ordinary value (a name, a word, a number) holds `ch`. */
function charChance(ch: string): number {
  if (ch >= 'a' && ch <= 'z') return 0.06;
  if (ch >= '0' && ch <= '9') return 0.04;
  if (ch === ' ') return 0.2;
  if ('.-_/:,=&'.includes(ch)) return 0.03;
  return 0.005;
}

/** A rough chance that an ordinary value passes every set (at most that of the most selective one). */
function passChance(sets: Sets | undefined): number {
  if (sets === undefined || sets.length === 0) return 1;
  let best = 1;
  for (const set of sets) {
    let chance = 0;
    for (const literal of set) chance += [...literal].reduce((p, ch) => p * charChance(ch), 1);
    best = Math.min(best, chance);
  }
  return best;
}

/** The most selective sets first, as many as the prefilter keeps. */
function mostSelective(sets: Sets | undefined): Sets | undefined {
  if (sets === undefined || sets.length === 0) return undefined;
  return withoutImplied([...sets].sort((a, b) => passChance([a]) - passChance([b]))).slice(0, MAX_SETS);
}

/** ASCII punctuation: the chars the search may exclude (case folding leaves them as they are). */
function isPunctuation(c: number): boolean {
  return c > 32 && c < 127 && !/[A-Za-z0-9]/.test(String.fromCharCode(c));
}

/**
 * The literal sets the prefilter uses for an `@rx` pattern (JavaScript source): the plain ones
 * (regex/literals.ts), or, when those pass most values, the best requirement with excluded chars.
 * The search starts from every candidate excluded, then puts each back (the most common in
 * ordinary values first) when the requirement gets no worse without it.
 */
export function selectiveLiteralSets(source: string): Sets | undefined {
  // The candidates: the punctuation among the chars the pattern matches as literals or small classes.
  const mentioned = new Set<number>();
  const plain = requiredLiteralSets(source, mentioned);
  const plainChance = passChance(plain);
  if (plain === undefined || plainChance <= GOOD_ENOUGH) return plain;
  let excluded = new Set([...mentioned].filter(isPunctuation));
  let sets = allLiteralSets(source, excluded);
  // Excluding more chars only strengthens the literals proven: if even these literals (without
  // the excluded chars' own) do no better than the plain ones, no search can. So 932236, whose
  // command list holds the one-letter `w`, costs two parses of its 11 KB, not twenty.
  const escapes = new Set([...excluded].map((c) => String.fromCharCode(c)));
  if (passChance(sets?.map((set) => set.filter((literal) => !escapes.has(literal)))) >= plainChance) return plain;
  let chance = passChance(sets);
  const byChance = [...excluded].sort((a, b) => charChance(String.fromCharCode(b)) - charChance(String.fromCharCode(a)));
  for (const c of byChance) {
    const fewer = new Set(excluded);
    fewer.delete(c);
    const candidate = allLiteralSets(source, fewer);
    const candidateChance = passChance(candidate);
    if (candidateChance <= chance) [excluded, sets, chance] = [fewer, candidate, candidateChance];
  }
  return chance < plainChance ? mostSelective(sets) : plain;
}

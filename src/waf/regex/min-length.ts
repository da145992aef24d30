import { RegExpParser, type AST } from '@eslint-community/regexpp';

/**
 * The length of the shortest string a JavaScript regular expression can match: no value shorter
 * than that can hold a match, whatever the pattern's flags (case folding without `u` maps one
 * char to one char). The engine uses it to drop a transformed value that is too short for every
 * rule reading it (compile/length-gates.ts).
 *
 * Parsed by regexpp (eslint's regular expression parser, in Annex B mode as V8 runs a pattern
 * without `u`), not by the prefilter's own parser (regex/literals.ts), which answers a different
 * question and gives up on what it does not understand. A pattern regexpp does not parse gets 0:
 * no bound, never a wrong one. A back-reference counts 0 (its group may have matched nothing), a
 * lookaround or an anchor 0 (they consume nothing), a char or a class 1.
 */
export function minMatchLength(source: string): number {
  try {
    const pattern = new RegExpParser({ strict: false, ecmaVersion: 2025 }).parsePattern(source, 0, source.length, { unicode: false });
    return ofAlternatives(pattern.alternatives);
  } catch {
    return 0;
  }
}

function ofAlternatives(alternatives: readonly AST.Alternative[]): number {
  let min = Infinity;
  for (const alt of alternatives) min = Math.min(min, ofElements(alt.elements));
  // No alternative at all cannot occur in a parsed pattern; 0 keeps the bound safe if it did.
  return min === Infinity ? 0 : min;
}

function ofElements(elements: readonly AST.Element[]): number {
  let sum = 0;
  for (const el of elements) sum += ofElement(el);
  return sum;
}

function ofElement(el: AST.Element): number {
  switch (el.type) {
    case 'Character':
    case 'CharacterClass':
    case 'CharacterSet':
    case 'ExpressionCharacterClass':
      return 1;
    case 'Group':
    case 'CapturingGroup':
      return ofAlternatives(el.alternatives);
    case 'Quantifier':
      return el.min === 0 ? 0 : el.min * ofElement(el.element);
    case 'Assertion':
    case 'Backreference':
      return 0;
  }
}

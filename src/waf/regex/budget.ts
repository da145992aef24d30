/**
 * Runs a compiled pattern from the start of the input. The one place every `@rx` goes through, so
 * the matcher (RegExp today) can be swapped for a linear-time one without touching operators.
 */
export function guardedExec(re: RegExp, input: string): RegExpExecArray | null {
  re.lastIndex = 0;
  return re.exec(input);
}

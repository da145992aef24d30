export function detectSqli(input: string): string | undefined {
  return /'\s*or\s*'|\bunion\b.*\bselect\b/i.test(input) ? 's&sos' : undefined;
}

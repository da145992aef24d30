/**
 * Finds `name` in a raw query string and returns its value (percent-decoded) and the query without
 * it, other parameters left exactly as sent. Repeated occurrences are all removed and their values
 * joined with ",", which no valid key contains, so a repeated parameter is refused as malformed.
 */
export function takeQueryParameter(query: string, name: string): { value: string; rest: string } | undefined {
  if (query === '' || !query.includes(name)) return undefined;
  const values: string[] = [];
  const rest: string[] = [];
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    if (decode(rawName) === name) values.push(eq === -1 ? '' : decode(part.slice(eq + 1)));
    else rest.push(part);
  }
  if (values.length === 0) return undefined;
  return { value: values.join(','), rest: rest.join('&') };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

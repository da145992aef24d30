/**
 * A deliberately small XML reader for `XML:/*`: the text of every element (`XML:/*`) and the value
 * of every attribute (`XML://@*`), in document order. It does not resolve entities beyond the five predefined ones and
 * never fetches anything (no DTDs, no external entities: XXE cannot happen here).
 */
export function xmlTexts(body: string): { texts: string[]; attributes: string[] } {
  const texts: string[] = [];
  const attributes: string[] = [];
  const decode = (s: string) =>
    s
      .replace(/&#x([0-9a-fA-F]{1,6});/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16) & 0xff))
      .replace(/&#([0-9]{1,7});/g, (_m, d: string) => String.fromCharCode(Number(d) & 0xff))
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  const text = body.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_m, c: string) => c.replace(/</g, '&lt;'));
  const re = /<[^>]*>|[^<]+/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const token = m[0];
    if (token.startsWith('<')) {
      for (const a of token.matchAll(/\s[^\s=]+\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attributes.push(decode(a[1] ?? a[2] ?? ''));
    } else if (token.trim() !== '') texts.push(decode(token));
  }
  return { texts, attributes };
}

/** True when the body looks like well-formed XML (one root, balanced tags). */
export function looksLikeXml(body: string): boolean {
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z_][\w:.-]*)[^>]*?(\/?)>/g;
  const stripped = body.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<![^>]*>/g, '');
  let roots = 0;
  for (let m = re.exec(stripped); m !== null; m = re.exec(stripped)) {
    if (m[3] === '/') {
      if (stack.length === 0) roots++;
      continue;
    }
    if (m[1] === '/') {
      if (stack.pop() !== m[2]) return false;
    } else {
      if (stack.length === 0) roots++;
      stack.push(m[2]!);
    }
  }
  return stack.length === 0 && roots === 1;
}

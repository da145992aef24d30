/**
 * `@detectXSS`: an HTML5-ish tokenizer in the spirit of libinjection's. It reads the value as
 * HTML in three places an application may echo it (text, inside a tag after a quoted value,
 * inside a tag unquoted) and flags what executes script: dangerous elements, event-handler
 * attributes, and URL attributes whose value is a script or data URL once entities, spaces and
 * control characters are removed. Written here for the same reason as the SQL tokenizer.
 */
const DANGEROUS_TAGS = new Set([
  'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'link', 'meta', 'style', 'svg', 'math',
  'xss', 'form', 'isindex', 'vmlframe', 'import', 'template', 'xml', 'bgsound', 'layer', 'ilayer',
]);
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'data', 'background', 'dynsrc', 'lowsrc', 'xlink:href', 'srcdoc', 'poster', 'codebase', 'to', 'values', 'from', 'by', 'folder']);
const BARE_EVENT =
  /(?:^|\s)on(?:error|load|click|dblclick|mouse(?:over|out|down|up|move|enter|leave)|focus(?:in|out)?|blur|change|submit|key(?:down|up|press)|input|toggle|animation(?:start|end)|transitionend|pointer(?:down|up|over|enter|move)|begin|end|scroll|wheel|resize|unload|beforeunload|hashchange|message|contextmenu|drag|drop|copy|paste|cut|select|play|canplay|loadstart|progress|pageshow|popstate|readystatechange|auxclick)\s*=/i;
const SCRIPT_URL = /^(?:javascript|vbscript|livescript|data|mocha):/;

/** What the browser would compare: entities decoded, whitespace and controls removed, lower case. */
function normaliseUrl(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);?/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16) & 0xffff))
    .replace(/&#([0-9]+);?/g, (_m, d: string) => String.fromCharCode(Number(d) & 0xffff))
    .replace(/&colon;/gi, ':')
    .replace(/&tab;|&newline;/gi, '')
    .replace(/[\x00-\x20\x7f]/g, '')
    .toLowerCase();
}

/** Attributes of a tag body (`a href=x onclick='y'`), stopping at `>`; returns whether one is dangerous. */
function dangerousAttributes(s: string, start: number): boolean {
  const re = /([^\s"'<>\/=\x00]+)\s*(?:=\s*(?:"([^"]*)"?|'([^']*)'?|`([^`]*)`?|([^\s>]*)))?|>/gy;
  let i = start;
  while (i < s.length) {
    while (i < s.length && /[\s\/\x00]/.test(s[i]!)) i++;
    re.lastIndex = i;
    const m = re.exec(s);
    if (m === null) return false;
    if (m[0] === '>') return false;
    const name = m[1]!.toLowerCase();
    const value = m[2] ?? m[3] ?? m[4] ?? m[5];
    if (name.length > 2 && name.startsWith('on')) return true;
    if (value !== undefined && (URL_ATTRIBUTES.has(name) || name === 'style') && SCRIPT_URL.test(normaliseUrl(value))) return true;
    if (name === 'style' && value !== undefined && /expression\s*\(|url\s*\(\s*['"]?\s*javascript/i.test(value)) return true;
    i = re.lastIndex;
  }
  return false;
}

function textContext(s: string): boolean {
  for (let i = s.indexOf('<'); i !== -1; i = s.indexOf('<', i + 1)) {
    const m = /^<\s*\/?\s*([a-zA-Z][^\s\/>\x00]*)/.exec(s.slice(i, i + 64));
    if (m === null) {
      if (s.startsWith('<!--', i) || s.startsWith('<?', i) || s.startsWith('<%', i)) return true;
      continue;
    }
    const tag = m[1]!.toLowerCase().replace(/[^a-z:]/g, '');
    if (DANGEROUS_TAGS.has(tag) || DANGEROUS_TAGS.has(tag.split(':').pop()!)) return true;
    if (dangerousAttributes(s, i + m[0].length)) return true;
  }
  return false;
}

export function detectXss(input: string): boolean {
  const s = input.length > 4096 ? input.slice(0, 4096) : input;
  if (textContext(s)) return true;
  if (SCRIPT_URL.test(normaliseUrl(s)) && /^\s*(?:javascript|vbscript|livescript)/i.test(normaliseUrl(s))) return true;
  // The value echoed inside a tag: after a closing quote, or unquoted.
  for (const quote of ['"', "'", '`']) {
    const at = s.indexOf(quote);
    if (at !== -1 && dangerousAttributes(s, at + 1)) return true;
  }
  // Unquoted, with no tag around it, only a real event name counts ("the onion = vegetable" is prose).
  return BARE_EVENT.test(s);
}

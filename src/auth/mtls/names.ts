/**
 * Distinguished names and subject alternative names in the forms Node prints them, parsed so that
 * config values can be compared with certificates exactly. Hand-written because no small, maintained
 * library does just this: Node's X509Certificate already decodes the DER, it only lacks a parser for
 * its own string output.
 */

const SPECIAL_END = new Set([',', ';', '\n', '+']);
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/**
 * Parses a DN string (RFC 4514 section 3: `CN=client,O=Acme\, Inc`, or Node's one-RDN-per-line form
 * with ` + ` between the values of a multi-valued RDN) into RDNs of `TYPE=value` strings with the
 * escapes (`\,` and `\0A`) decoded and the attribute type upper-cased. Order is kept as written.
 * Throws on a malformed string.
 */
export function parseDn(text: string): string[][] {
  const rdns: string[][] = [];
  // An empty DN is legal: X.509-SVIDs (SPIFFE) often carry their identity in the URI SAN only.
  if (text.trim() === '') return rdns;
  let rdn: string[] = [];
  let i = 0;
  const skipSpaces = () => {
    while (text[i] === ' ') i++;
  };
  for (;;) {
    skipSpaces();
    const eq = text.indexOf('=', i);
    const type = eq === -1 ? '' : text.slice(i, eq).trim();
    if (!/^[A-Za-z][A-Za-z0-9-]*$|^[0-9]+(\.[0-9]+)+$/.test(type)) throw new Error(`malformed DN "${text}": expected an attribute type at offset ${i}`);
    i = eq + 1;
    skipSpaces();
    const bytes: number[] = [];
    let kept = 0; // bytes up to the last character that is not an unescaped trailing space
    while (i < text.length && !SPECIAL_END.has(text[i]!)) {
      const ch = text[i]!;
      if (ch === '\\') {
        const pair = text.slice(i + 1, i + 3);
        if (HEX_PAIR.test(pair)) {
          bytes.push(parseInt(pair, 16));
          i += 3;
        } else if (i + 1 < text.length) {
          bytes.push(...Buffer.from(text[i + 1]!, 'utf8'));
          i += 2;
        } else {
          throw new Error(`malformed DN "${text}": dangling backslash`);
        }
        kept = bytes.length;
        continue;
      }
      bytes.push(...Buffer.from(ch, 'utf8'));
      if (ch !== ' ') kept = bytes.length;
      i++;
    }
    rdn.push(`${type.toUpperCase()}=${Buffer.from(bytes.slice(0, kept)).toString('utf8')}`);
    if (i >= text.length) break;
    const separator = text[i]!;
    i++;
    if (separator !== '+') {
      rdns.push(rdn);
      rdn = [];
    }
  }
  rdns.push(rdn);
  return rdns;
}

/** A string that two DNs share exactly when they are the same DN (RFC 4514 order: most specific first). */
export function dnKey(rfc4514: string): string {
  return JSON.stringify(parseDn(rfc4514));
}

/**
 * Node's multi-line name (`C=DE\nO=Acme\nCN=client`, most general first) as RFC 4514
 * (`CN=client,O=Acme,C=DE`). Node gives `undefined` for an empty name: that is ''.
 */
export function nodeNameToRfc4514(name: string | null | undefined): string {
  return name ? name.split('\n').reverse().join(',') : '';
}

const SAN_TYPES: Record<string, string> = { dns: 'DNS', uri: 'URI', email: 'email', ip: 'IP', 'ip address': 'IP' };

/**
 * A SAN as `TYPE:value` with a canonical type (DNS, URI, email, IP) and, for DNS, a lower-case
 * value (RFC 5280 section 4.2.1.6: DNS names compare case-insensitively). Undefined for a type we do
 * not match on.
 */
export function canonicalSan(type: string, value: string): string | undefined {
  const canonical = SAN_TYPES[type.toLowerCase()];
  if (canonical === undefined) return undefined;
  return `${canonical}:${canonical === 'DNS' ? value.toLowerCase() : value}`;
}

/**
 * Parses Node's `subjectAltName` (`DNS:a.example, URI:spiffe://x/y, email:ops@x, IP Address:10.0.0.1`).
 * Since the CVE-2021-44532 fix Node JSON-quotes any value that could be mistaken for a separator,
 * so `, ` outside quotes always separates names. Names of other types (DirName, othername) are kept
 * as Node prints them.
 */
export function parseSubjectAltName(text: string | undefined): string[] {
  const names: string[] = [];
  if (text === undefined || text === '') return names;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon === -1) break;
    const type = text.slice(i, colon);
    i = colon + 1;
    let value: string;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
    } else {
      const end = text.indexOf(', ', i);
      value = text.slice(i, end === -1 ? text.length : end);
      i = end === -1 ? text.length : end;
    }
    if (text.startsWith(', ', i)) i += 2;
    names.push(canonicalSan(type, value) ?? `${type}:${value}`);
  }
  return names;
}

/** A SHA-256 fingerprint in any common spelling (colons or not, any case) as 64 lower-case hex digits. */
export function normaliseFingerprint(text: string): string | undefined {
  const hex = text.replaceAll(':', '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/**
 * OpenAPI parameter serialisation, read back (OpenAPI 3.1 section 4.8.12.4 "Style Values" and the
 * "Style Examples" table; 3.0 section "Style Examples" is the same). Values arrive as strings; the
 * declared types are applied afterwards by the `param` Ajv (coercion), so here a parameter only
 * becomes a string, an array of strings or an object of strings.
 */

export type ParamLocation = 'path' | 'query' | 'header' | 'cookie';
export type ParamShape = 'primitive' | 'array' | 'object';
export type ParamStyle = 'simple' | 'label' | 'matrix' | 'form' | 'spaceDelimited' | 'pipeDelimited' | 'deepObject';

export interface ParamSerialisation {
  readonly name: string;
  readonly in: ParamLocation;
  readonly style: ParamStyle;
  readonly explode: boolean;
  readonly shape: ParamShape;
  /** Declared property names of an object parameter (for exploded form objects in a query). */
  readonly properties: readonly string[];
}

export type ParamValue = string | string[] | Record<string, string>;

/** Defaults by location (OpenAPI 3.1 section 4.8.12.4): form for query and cookie, simple otherwise; explode only for form. */
export function defaultStyle(location: ParamLocation): ParamStyle {
  return location === 'query' || location === 'cookie' ? 'form' : 'simple';
}

export const STYLES_BY_LOCATION: Readonly<Record<ParamLocation, readonly ParamStyle[]>> = {
  path: ['simple', 'label', 'matrix'],
  query: ['form', 'spaceDelimited', 'pipeDelimited', 'deepObject'],
  header: ['simple'],
  cookie: ['form'],
};

/** `R,100,G,200` as `{R: '100', G: '200'}`; an odd count leaves the last key empty. */
function pairs(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < items.length; i += 2) out[items[i]!] = items[i + 1] ?? '';
  return out;
}

/** `R=100,G=200` (split already) as `{R: '100', G: '200'}`. */
function assignments(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === -1) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function shaped(p: ParamSerialisation, items: string[], exploded: boolean): ParamValue {
  if (p.shape === 'primitive') return items.join(',');
  if (p.shape === 'array') return items;
  return exploded ? assignments(items) : pairs(items);
}

/** Splits a string on `sep`; an empty string is an empty list (an empty array was sent). */
function split(value: string, sep: string): string[] {
  return value === '' ? [] : value.split(sep);
}

/** A path segment value (already percent-decoded by the router) in `simple`, `label` or `matrix` style. */
export function parsePathValue(p: ParamSerialisation, raw: string): ParamValue | undefined {
  if (p.style === 'simple') return shaped(p, p.shape === 'primitive' ? [raw] : split(raw, ','), p.explode);
  if (p.style === 'label') {
    if (!raw.startsWith('.')) return undefined;
    const body = raw.slice(1);
    if (p.shape === 'primitive') return body;
    return shaped(p, split(body, p.explode ? '.' : ','), p.explode);
  }
  // matrix: ;color=blue  ;color=blue,black  ;color=blue;color=black  ;color=R,100  ;R=100;G=200
  if (!raw.startsWith(';')) return undefined;
  const parts = raw.slice(1).split(';');
  if (p.shape === 'object' && p.explode) return assignments(parts);
  const prefix = `${p.name}=`;
  const values: string[] = [];
  for (const part of parts) {
    if (part === p.name) values.push('');
    else if (part.startsWith(prefix)) values.push(part.slice(prefix.length));
    else return undefined;
  }
  if (p.shape === 'primitive') return values[0];
  if (p.explode) return values;
  return shaped(p, split(values[0] ?? '', ','), false);
}

/** A header value (simple style). */
export function parseHeaderValue(p: ParamSerialisation, raw: string): ParamValue {
  return shaped(p, p.shape === 'primitive' ? [raw] : split(raw, ',').map((s) => s.trim()), p.explode);
}

/** The query string as decoded name -> values (`+` is a space, as browsers encode forms). */
export function parseQuery(query: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (query === '') return out;
  for (const [name, value] of new URLSearchParams(query)) {
    const list = out.get(name);
    if (list === undefined) out.set(name, [value]);
    else list.push(value);
  }
  return out;
}

/**
 * A query (or cookie, or urlencoded form) parameter from the decoded name -> values map; the names
 * it consumed are added to `used`, so undeclared parameters can be found afterwards.
 */
export function parseQueryValue(p: ParamSerialisation, query: ReadonlyMap<string, string[]>, used: Set<string>): ParamValue | undefined {
  if (p.style === 'deepObject') {
    const prefix = `${p.name}[`;
    let out: Record<string, string> | undefined;
    for (const [name, values] of query) {
      if (!name.startsWith(prefix) || !name.endsWith(']')) continue;
      used.add(name);
      (out ??= Object.create(null) as Record<string, string>)[name.slice(prefix.length, -1)] = values[0]!;
    }
    return out;
  }
  if (p.shape === 'object' && p.explode) {
    // form, explode: each property is its own parameter (R=100&G=200&B=150).
    let out: Record<string, string> | undefined;
    for (const prop of p.properties) {
      const values = query.get(prop);
      if (values === undefined) continue;
      used.add(prop);
      (out ??= Object.create(null) as Record<string, string>)[prop] = values[0]!;
    }
    return out;
  }
  const values = query.get(p.name);
  if (values === undefined) return undefined;
  used.add(p.name);
  if (p.shape === 'primitive') return values[0]!;
  if (p.shape === 'array' && p.explode && p.style === 'form') return values;
  const sep = p.style === 'spaceDelimited' ? ' ' : p.style === 'pipeDelimited' ? '|' : ',';
  return shaped(p, split(values[0]!, sep), false);
}

/** The Cookie header (RFC 6265 section 4.2.1) as name -> values. */
export function parseCookies(header: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (header === undefined) return out;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // not percent-encoded: kept as sent
    }
    const list = out.get(name);
    if (list === undefined) out.set(name, [value]);
    else list.push(value);
  }
  return out;
}

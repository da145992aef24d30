/**
 * The small part of RFC 8941 (Structured Field Values) that RFC 9421 section 4 needs: a Dictionary
 * whose members are Inner Lists of Strings with Parameters (Signature-Input) or Byte Sequences
 * (Signature). Anything else is refused: a parse error means a rejected signature, never a guess.
 */
export type BareItem = string | number | boolean | Buffer;
export type Params = Map<string, BareItem>;
export interface InnerList {
  readonly items: readonly { readonly value: string; readonly params: Params }[];
  readonly params: Params;
}
export type Member = { readonly value: BareItem | InnerList; readonly params: Params };

const KEY = /^[a-z*][a-z0-9_\-.*]*/;

class Parser {
  i = 0;
  constructor(readonly s: string) {}
  fail(what: string): never {
    throw new Error(`structured field: ${what} at ${this.i}`);
  }
  ows(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }
  key(): string {
    const m = KEY.exec(this.s.slice(this.i));
    if (m === null) this.fail('expected a key');
    this.i += m[0].length;
    return m[0];
  }
  bare(): BareItem {
    const c = this.s[this.i];
    if (c === '"') {
      let out = '';
      for (this.i++; this.i < this.s.length; this.i++) {
        const ch = this.s[this.i]!;
        if (ch === '\\') {
          const next = this.s[++this.i];
          if (next !== '"' && next !== '\\') this.fail('bad escape');
          out += next;
        } else if (ch === '"') {
          this.i++;
          return out;
        } else if (ch < ' ' || ch > '~') this.fail('bad string character');
        else out += ch;
      }
      this.fail('unterminated string');
    }
    if (c === ':') {
      const end = this.s.indexOf(':', this.i + 1);
      if (end < 0) this.fail('unterminated byte sequence');
      const b64 = this.s.slice(this.i + 1, end);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) this.fail('bad base64');
      this.i = end + 1;
      return Buffer.from(b64, 'base64');
    }
    if (c === '?') {
      const v = this.s[this.i + 1];
      if (v !== '0' && v !== '1') this.fail('bad boolean');
      this.i += 2;
      return v === '1';
    }
    const num = /^-?[0-9]{1,15}/.exec(this.s.slice(this.i));
    if (num !== null && this.s[this.i + num[0].length] !== '.') {
      this.i += num[0].length;
      return Number(num[0]);
    }
    const token = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*/.exec(this.s.slice(this.i));
    if (token === null) this.fail('expected an item');
    this.i += token[0].length;
    return token[0];
  }
  params(): Params {
    const params: Params = new Map();
    while (this.s[this.i] === ';') {
      this.i++;
      this.ows();
      const k = this.key();
      let v: BareItem = true;
      if (this.s[this.i] === '=') {
        this.i++;
        v = this.bare();
      }
      params.set(k, v);
    }
    return params;
  }
  innerList(): InnerList {
    this.i++; // (
    const items: { value: string; params: Params }[] = [];
    for (;;) {
      while (this.s[this.i] === ' ') this.i++;
      if (this.s[this.i] === ')') {
        this.i++;
        return { items, params: this.params() };
      }
      const value = this.bare();
      if (typeof value !== 'string' || this.s[this.i - 1] !== '"') this.fail('component identifiers must be strings');
      items.push({ value, params: this.params() });
      const c = this.s[this.i];
      if (c !== ' ' && c !== ')') this.fail('expected space or )');
    }
  }
}

/** Parses a Dictionary; throws on anything malformed. Duplicate keys: the last wins (RFC 8941 section 4.2.2). */
export function parseDictionary(input: string): Map<string, Member> {
  const p = new Parser(input.trim());
  const out = new Map<string, Member>();
  while (p.i < p.s.length) {
    const k = p.key();
    let member: Member;
    if (p.s[p.i] === '=') {
      p.i++;
      const value = p.s[p.i] === '(' ? p.innerList() : p.bare();
      member = { value, params: value instanceof Object && 'items' in value ? value.params : p.params() };
    } else member = { value: true, params: p.params() };
    out.set(k, member);
    p.ows();
    if (p.i >= p.s.length) break;
    if (p.s[p.i] !== ',') p.fail('expected ,');
    p.i++;
    p.ows();
    if (p.i >= p.s.length) p.fail('trailing comma');
  }
  return out;
}

export function isInnerList(value: BareItem | InnerList): value is InnerList {
  return typeof value === 'object' && !Buffer.isBuffer(value);
}

/** RFC 8941 section 4.1 serialisation of a bare item (integers, strings, booleans, tokens never occur here). */
export function serializeBare(value: BareItem): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? '?1' : '?0';
  if (Buffer.isBuffer(value)) return `:${value.toString('base64')}:`;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function serializeParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) out += v === true ? `;${k}` : `;${k}=${serializeBare(v)}`;
  return out;
}

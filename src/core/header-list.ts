/**
 * A response header list as the wire carries it: names lower-cased, values as strings, order and
 * repeats (Set-Cookie) kept. Response policies edit it before the head is written; it is handed to
 * `res.writeHead` as Node's flat `[name, value, ...]` form, so nothing is re-parsed on the way out.
 */
export class HeaderList {
  /** Flat pairs: entries[2i] is a lower-case name, entries[2i+1] its value. */
  readonly entries: string[];

  constructor(entries: string[] = []) {
    this.entries = entries;
  }

  get(name: string): string | undefined {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) if (e[i] === name) return e[i + 1];
    return undefined;
  }

  getAll(name: string): string[] {
    const out: string[] = [];
    const e = this.entries;
    for (let i = 0; i < e.length; i += 2) if (e[i] === name) out.push(e[i + 1] as string);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every value of `name` with one value. */
  set(name: string, value: string): this {
    this.delete(name);
    this.entries.push(name, value);
    return this;
  }

  /** Sets `name` only when the upstream did not send it. */
  setDefault(name: string, value: string): this {
    if (!this.has(name)) this.entries.push(name, value);
    return this;
  }

  append(name: string, value: string): this {
    this.entries.push(name, value);
    return this;
  }

  delete(name: string): this {
    const e = this.entries;
    for (let i = e.length - 2; i >= 0; i -= 2) if (e[i] === name) e.splice(i, 2);
    return this;
  }
}

/**
 * Case-insensitive multi-phrase search for `@pm` / `@pmFromFile`: ModSecurity uses Aho-Corasick
 * too, and the CRS lists run to hundreds of phrases, where one scan per value beats one indexOf
 * per phrase. Hand-written because it is 60 lines over binary strings and no maintained npm
 * package searches latin1 strings without re-encoding every value.
 */
interface Node {
  readonly next: Map<number, Node>;
  fail: Node | undefined;
  /** The longest phrase ending here (directly or through fail links), for captures. */
  output: string | undefined;
}

function lower(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

export class PhraseMatcher {
  private readonly root: Node = { next: new Map(), fail: undefined, output: undefined };

  constructor(phrases: readonly string[]) {
    for (const phrase of phrases) if (phrase !== '') this.add(phrase);
    this.link();
  }

  private add(phrase: string): void {
    let node = this.root;
    for (let i = 0; i < phrase.length; i++) {
      const c = lower(phrase.charCodeAt(i));
      let child = node.next.get(c);
      if (child === undefined) {
        child = { next: new Map(), fail: undefined, output: undefined };
        node.next.set(c, child);
      }
      node = child;
    }
    node.output = phrase;
  }

  private link(): void {
    const queue: Node[] = [];
    for (const child of this.root.next.values()) {
      child.fail = this.root;
      queue.push(child);
    }
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q]!;
      for (const [c, child] of node.next) {
        let f = node.fail;
        while (f !== undefined && !f.next.has(c)) f = f.fail;
        child.fail = f === undefined ? this.root : f.next.get(c)!;
        child.output ??= child.fail.output;
        queue.push(child);
      }
    }
  }

  /** The first phrase found in `text`, or undefined. */
  find(text: string): string | undefined {
    let node = this.root;
    for (let i = 0; i < text.length; i++) {
      const c = lower(text.charCodeAt(i));
      while (node !== this.root && !node.next.has(c)) node = node.fail!;
      node = node.next.get(c) ?? this.root;
      if (node.output !== undefined) return node.output;
    }
    return undefined;
  }
}

/** The label value every consumer past the cap shares. */
export const OTHER_LABEL = '__other__';

/** Longer values are cut: a label value is stored in every series and every scrape. */
const MAX_VALUE_LENGTH = 128;

/**
 * Label values admitted first come, first served, up to a fixed cap; every value after that maps to
 * `__other__`. Why not the top N by traffic: top-N needs a counter per value ever seen (unbounded
 * memory, or a sketch) and re-labelling when the ranking changes, which breaks `rate()` over the
 * series that moved. First come with a fixed cap is predictable (a value keeps its series for the
 * life of the process), costs one Set lookup per request, and an attacker who creates consumers or
 * presents many subjects can add at most `max` series, never more. Memory is bounded by `max` too:
 * values that were refused are not remembered.
 */
export class BoundedLabels {
  private readonly admitted = new Set<string>();

  constructor(private max: number) {}

  /** The label for `value`: itself (cut to 128 characters) while there is room or it was admitted before, else `__other__`. */
  label(value: string): string {
    const cut = value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value;
    if (this.admitted.has(cut)) return cut;
    if (this.admitted.size >= this.max) return OTHER_LABEL;
    this.admitted.add(cut);
    return cut;
  }

  /**
   * A reload may change the cap. Values admitted before keep their label (their series already
   * exist); a lower cap stops new admissions. The count never falls: the cap bounds what is added.
   */
  resize(max: number): void {
    this.max = max;
  }

  get size(): number {
    return this.admitted.size;
  }
}

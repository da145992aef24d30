/**
 * Per value length (mod 32), the index of the last value the current walk computed: an equal value
 * later in the same walk reuses that result. Arrays of JSON objects repeat values every few
 * entries (`"note": "a short description"` in each item), and steps make distinct values equal
 * (`t:base64Decode` turns every `json.items.N.x` name into the bytes of `json`). A slot by length
 * costs one read and, mostly, a compare that fails on the first chars; a Map would hash every value.
 * Walks are synchronous and do not nest, so one scratch array serves them all.
 */
const lastByLength = new Int32Array(32);

/** Index of an earlier value of this walk equal to `values[i]`, or -1; else remembers `i` for its length. */
export function earlierEqual(values: readonly string[], i: number): number {
  const slot = values[i]!.length & 31;
  const j = lastByLength[slot]!;
  if (j >= 0 && values[j] === values[i]) return j;
  lastByLength[slot] = i;
  return -1;
}

export function forgetLengths(): void {
  for (let k = 0; k < 32; k++) lastByLength[k] = -1;
}

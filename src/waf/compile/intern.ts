/**
 * The internalized copy of a string (V8's string table entry: a property name comes back from
 * `Object.keys` internalized). Why: TX names, collection names and keys are looked up in Maps
 * ~500 times a request. When both the key looked up and the key stored are internalized, V8
 * compares them by pointer; otherwise each candidate costs a read of both strings' characters,
 * and in the gateway, where the rule set is evicted from the caches between requests, those reads
 * were most of the cost of a TX check (a profile put 60% of it on the `Map.get`). Only names known
 * at load go through here; a string's value is never changed, so this is always safe.
 */
export function intern(s: string): string {
  const holder: Record<string, 0> = {};
  holder[s] = 0;
  // (An array-index name such as "0" may come back as a number string not internalized: still equal.)
  return Object.keys(holder)[0]!;
}

export function internOrUndefined(s: string | undefined): string | undefined {
  return s === undefined ? undefined : intern(s);
}

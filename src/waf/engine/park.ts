import type { Transaction } from './transaction.js';

/**
 * Trims a transaction before it waits for the response: the last rule's matched values. The
 * response phases set them afresh. Why bother: a transaction held across the upstream call
 * survives young-generation collections, so whatever it holds is copied and then promoted to the
 * old generation (the per-call caches live in the engine for the same reason, see
 * evaluation-cache.ts; unlogged matches, which it also held once, are no longer recorded at all,
 * see evaluate.ts `onMatch`).
 */
export function trimForResponse(tx: Transaction): void {
  tx.forgetMatches();
}

import { StoreError } from './errors.js';
import type { UsageIncrement } from './types.js';

/** Checked before any statement runs, so a bad batch changes nothing on any backend. */
export function checkIncrements(increments: readonly UsageIncrement[]): void {
  for (const i of increments) {
    if (typeof i.consumerId !== 'string' || i.consumerId.length === 0 || i.consumerId.length > 256) {
      throw new StoreError('STORE_INVALID', 'usage: consumerId must be a string of 1 to 256 characters');
    }
    if (typeof i.period !== 'string' || i.period.length === 0 || i.period.length > 64) {
      throw new StoreError('STORE_INVALID', 'usage: period must be a string of 1 to 64 characters');
    }
    if (!Number.isSafeInteger(i.count) || i.count < 1) throw new StoreError('STORE_INVALID', 'usage: count must be a positive integer');
  }
}

import type { SetVar } from '../types.js';
import type { Transaction } from './transaction.js';

/** One `setvar` action: TX (set, +=, -=, delete) or another collection, with macros expanded. */
export function applySetVar(tx: Transaction, sv: SetVar): void {
  const name = sv.literalName ?? tx.expand(sv.name);
  const lower = sv.lowerName ?? name.toLowerCase();
  if (sv.collection !== 'TX') {
    tx.other.set(`${sv.collection}.${lower}`, tx.expand(sv.value));
    return;
  }
  if (sv.op === 'delete') {
    tx.tx.delete(lower);
    return;
  }
  const value = tx.expand(sv.value);
  if (sv.op === 'set') {
    tx.setTx(name, value, lower, sv.entryName);
    return;
  }
  const old = parseInt(tx.tx.get(lower)?.value ?? '0', 10) || 0;
  const delta = parseInt(value, 10) || 0;
  tx.setTx(name, String(sv.op === 'add' ? old + delta : old - delta), lower, sv.entryName);
}

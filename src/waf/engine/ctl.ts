import type { Ctl } from '../types.js';
import type { Transaction } from './transaction.js';

/** Applies one `ctl:` action to the rest of this transaction. */
export function applyCtl(tx: Transaction, ctl: Ctl): void {
  switch (ctl.kind) {
    case 'ruleRemoveById':
      tx.removedIds.push(...ctl.ranges);
      return;
    case 'ruleRemoveByTag':
      tx.removedTags.add(ctl.tag);
      return;
    case 'ruleRemoveTargetById':
      if (ctl.target.collection === 'TX') tx.txTargetsRemoved = true;
      tx.removedTargets.push({ ranges: ctl.ranges, tag: undefined, target: ctl.target, alone: [ctl.target] });
      return;
    case 'ruleRemoveTargetByTag':
      if (ctl.target.collection === 'TX') tx.txTargetsRemoved = true;
      tx.removedTargets.push({ ranges: undefined, tag: ctl.tag, target: ctl.target, alone: [ctl.target] });
      return;
    case 'ruleEngine':
      tx.engineMode = ctl.value;
      return;
    case 'requestBodyProcessor':
      tx.bodyProcessor = ctl.value;
      tx.scalars.set('REQBODY_PROCESSOR', ctl.value);
      return;
    case 'forceRequestBodyVariable':
      tx.forceRequestBody = ctl.value;
      return;
    case 'ignored':
      return;
  }
}

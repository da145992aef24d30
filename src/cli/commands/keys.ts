import { generateApiKey, hashApiKey } from '../../auth/api-key/index.js';
import type { Credential, Store } from '../../storage/types.js';
import type { ParsedArgs } from '../args.js';
import { stringFlag } from '../args.js';
import { CliError, findConsumer, fmtDate, parseCliDuration, table, UsageError, withStore } from '../store-context.js';

const USAGE = `usage: portcullis keys create CONSUMER [--label L] [--scopes a,b] [--expires 30d] [--config FILE]
       portcullis keys list CONSUMER [--config FILE]
       portcullis keys revoke KEYID [--config FILE]
       portcullis keys rotate KEYID [--grace 24h] [--config FILE]`;

const ONCE = 'Store it now: Portcullis keeps only its hash and cannot show it again.';

async function findKey(store: Store, keyId: string): Promise<Credential> {
  const credential = await store.credentials.findByLookup('api-key', keyId);
  if (credential === null) throw new CliError(`no api key with key id "${keyId}"`);
  return credential;
}

/** `portcullis keys create|list|revoke|rotate`. Keys are printed once, at creation; only hashes are stored. */
export async function keysCommand(args: ParsedArgs): Promise<number> {
  const [sub, target] = args.positionals;
  return withStore(args, USAGE, async ({ store, pepper, broadcast, audit }) => {
    const need = (what: string) => {
      if (target === undefined) throw new UsageError(`keys ${sub}: missing ${what}`);
      return target;
    };
    const issue = async (consumerId: string, label: string, scopes: string[], expiresAt: Date | null, metadata = {}) => {
      const { key, keyId } = generateApiKey();
      await store.credentials.create({ consumerId, type: 'api-key', lookupId: keyId, secretHash: hashApiKey(key, pepper), label, scopes, expiresAt, metadata });
      return { key, keyId };
    };
    switch (sub) {
      case 'create': {
        const expires = stringFlag(args, 'expires');
        const expiresAt = expires === undefined ? null : new Date(Date.now() + parseCliDuration('expires', expires));
        const scopes = (stringFlag(args, 'scopes') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        const consumer = await findConsumer(store, need('CONSUMER'));
        const { key, keyId } = await issue(consumer.id, stringFlag(args, 'label') ?? '', scopes, expiresAt);
        audit({ action: 'credential.create', target: keyId, detail: { type: 'api-key', consumer: consumer.id, scopes } });
        process.stdout.write(`${key}\n`);
        process.stderr.write(`created api key ${keyId} for consumer ${consumer.name}${expiresAt ? `, expires ${fmtDate(expiresAt)}` : ''}. ${ONCE}\n`);
        return;
      }
      case 'list': {
        const consumer = await findConsumer(store, need('CONSUMER'));
        const rows = [['KEY ID', 'LABEL', 'SCOPES', 'CREATED', 'EXPIRES', 'REVOKED', 'GRACE UNTIL', 'LAST USED']];
        for (const k of await store.credentials.listByConsumer(consumer.id)) {
          if (k.type !== 'api-key') continue;
          rows.push([k.lookupId, k.label || '-', k.scopes.join(',') || '-', fmtDate(k.createdAt), fmtDate(k.expiresAt), fmtDate(k.revokedAt), fmtDate(k.graceUntil), fmtDate(k.lastUsedAt)]);
        }
        process.stdout.write(table(rows));
        return;
      }
      case 'revoke': {
        const key = await findKey(store, need('KEYID'));
        await store.credentials.revoke(key.id);
        // A revoked key in its rotation grace period would keep working: revocation ends the grace.
        if (key.graceUntil !== null) await store.credentials.setGraceUntil(key.id, null);
        await broadcast([key.lookupId]);
        audit({ action: 'credential.revoke', target: key.lookupId, detail: { type: 'api-key', consumer: key.consumerId } });
        process.stdout.write(`revoked api key ${key.lookupId}\n`);
        return;
      }
      case 'rotate': {
        const graceMs = parseCliDuration('grace', stringFlag(args, 'grace') ?? '24h');
        const old = await findKey(store, need('KEYID'));
        if (old.revokedAt !== null && old.graceUntil === null) throw new CliError(`api key ${old.lookupId} is revoked; create a new key instead`);
        const { key, keyId } = await issue(old.consumerId, old.label, [...old.scopes], old.expiresAt, { rotatedFrom: old.lookupId });
        const graceUntil = new Date(Date.now() + graceMs);
        // Grace first: interrupted in between, the old key still ends at graceUntil instead of at once.
        await store.credentials.setGraceUntil(old.id, graceUntil);
        await store.credentials.revoke(old.id);
        await broadcast([old.lookupId]);
        audit({ action: 'credential.rotate', target: old.lookupId, detail: { type: 'api-key', consumer: old.consumerId, replacement: keyId, graceUntil: graceUntil.toISOString() } });
        process.stdout.write(`${key}\n`);
        process.stderr.write(`rotated api key ${old.lookupId} -> ${keyId}; the old key works until ${fmtDate(graceUntil)}. ${ONCE}\n`);
        return;
      }
      default:
        throw new UsageError(sub === undefined ? 'keys: missing subcommand' : `keys: unknown subcommand "${sub}"`);
    }
  });
}

import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseKeyMaterial } from '../../auth/http-signature/index.js';
import type { Credential, Store } from '../../storage/types.js';
import type { ParsedArgs } from '../args.js';
import { stringFlag } from '../args.js';
import { CliError, findConsumer, fmtDate, parseCliDuration, table, UsageError, withStore } from '../store-context.js';

const USAGE = `usage: portcullis signing-keys create CONSUMER [--alg hmac-sha256|ed25519] [--public-key FILE.pem] [--keyid ID]
                                        [--label L] [--scopes a,b] [--expires 30d] [--config FILE]
       portcullis signing-keys list CONSUMER [--config FILE]
       portcullis signing-keys revoke KEYID [--config FILE]`;

/** RFC 9421 `keyid` is an sf-string; we keep it to characters that need no escaping anywhere. */
const KEYID = /^[A-Za-z0-9._~-]{1,128}$/;
/** 256 bits: RFC 2104 section 3 wants at least the hash output length (32 bytes for SHA-256). */
const HMAC_SECRET_BYTES = 32;

async function findSigningKey(store: Store, keyid: string): Promise<Credential> {
  const credential = await store.credentials.findByLookup('hmac', keyid);
  if (credential === null) throw new CliError(`no signing key with keyid "${keyid}"`);
  return credential;
}

/**
 * The stored form of an Ed25519 public key (keys.ts): `ed25519:<base64 DER SPKI>`. A private key is
 * refused, not reduced to its public half: it should never have left the client.
 */
function ed25519Material(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`--public-key ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (/PRIVATE KEY/.test(pem)) throw new CliError(`--public-key ${file}: this is a private key; register only the public key (openssl pkey -in key.pem -pubout)`);
  let spki: Buffer;
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType !== 'ed25519') throw new CliError(`--public-key ${file}: a ${String(key.asymmetricKeyType)} key, expected ed25519`);
    spki = key.export({ format: 'der', type: 'spki' });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--public-key ${file}: not a PEM public key`);
  }
  return `ed25519:${spki.toString('base64')}`;
}

function algOf(credential: Credential): string {
  const material = parseKeyMaterial(credential.secretHash);
  return typeof material === 'string' ? 'unreadable' : material.alg;
}

/**
 * `portcullis signing-keys create|list|revoke`: keys for RFC 9421 HTTP message signatures (the
 * http-signature method), Store credentials of type `hmac` whose `lookupId` is the `keyid`. An
 * HMAC-SHA256 secret is generated and printed once; an Ed25519 key is the client's public key.
 * The method reads the Store on every request, so a revocation applies to the next one.
 */
export async function signingKeysCommand(args: ParsedArgs): Promise<number> {
  const [sub, target] = args.positionals;
  return withStore(args, USAGE, async ({ store }) => {
    const need = (what: string) => {
      if (target === undefined) throw new UsageError(`signing-keys ${sub}: missing ${what}`);
      return target;
    };
    switch (sub) {
      case 'create': {
        const publicKey = stringFlag(args, 'public-key');
        const alg = stringFlag(args, 'alg') ?? (publicKey === undefined ? 'hmac-sha256' : 'ed25519');
        if (alg !== 'hmac-sha256' && alg !== 'ed25519') throw new UsageError('--alg: expected hmac-sha256 or ed25519');
        if (alg === 'ed25519' && publicKey === undefined) throw new UsageError('--alg ed25519 needs --public-key FILE.pem');
        if (alg === 'hmac-sha256' && publicKey !== undefined) throw new UsageError('--public-key is for --alg ed25519; an hmac-sha256 secret is generated');
        const keyid = stringFlag(args, 'keyid') ?? `sig_${randomBytes(12).toString('base64url')}`;
        if (!KEYID.test(keyid)) throw new UsageError('--keyid: 1 to 128 of A-Z a-z 0-9 . _ ~ -');
        const expires = stringFlag(args, 'expires');
        const expiresAt = expires === undefined ? null : new Date(Date.now() + parseCliDuration('expires', expires));
        const scopes = (stringFlag(args, 'scopes') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        const consumer = await findConsumer(store, need('CONSUMER'));
        const secret = alg === 'hmac-sha256' ? randomBytes(HMAC_SECRET_BYTES) : undefined;
        const material = secret === undefined ? ed25519Material(publicKey!) : `hmac-sha256:base64:${secret.toString('base64')}`;
        if ((await store.credentials.findByLookup('hmac', keyid)) !== null) throw new CliError(`keyid "${keyid}" is taken`);
        await store.credentials.create({ consumerId: consumer.id, type: 'hmac', lookupId: keyid, secretHash: material, label: stringFlag(args, 'label') ?? '', scopes, expiresAt });
        const until = expiresAt ? `, expires ${fmtDate(expiresAt)}` : '';
        if (secret === undefined) {
          process.stdout.write(`${keyid}\n`);
          process.stderr.write(`registered ed25519 public key ${keyid} for consumer ${consumer.name}${until}. Sign with keyid="${keyid}" alg="ed25519".\n`);
        } else {
          // stdout carries the secret alone (base64), so `SECRET=$(portcullis signing-keys create ...)` works.
          process.stdout.write(`${secret.toString('base64')}\n`);
          process.stderr.write(
            `created hmac-sha256 signing key ${keyid} for consumer ${consumer.name}${until}. The secret above (base64) is shown once; ` +
              `the Store keeps it as is because HMAC verification needs it: prefer ed25519 where the client can.\n`,
          );
        }
        return;
      }
      case 'list': {
        const consumer = await findConsumer(store, need('CONSUMER'));
        const rows = [['KEYID', 'ALG', 'LABEL', 'SCOPES', 'CREATED', 'EXPIRES', 'REVOKED']];
        for (const k of await store.credentials.listByConsumer(consumer.id)) {
          if (k.type !== 'hmac') continue;
          rows.push([k.lookupId, algOf(k), k.label || '-', k.scopes.join(',') || '-', fmtDate(k.createdAt), fmtDate(k.expiresAt), fmtDate(k.revokedAt)]);
        }
        process.stdout.write(table(rows));
        return;
      }
      case 'revoke': {
        const key = await findSigningKey(store, need('KEYID'));
        await store.credentials.revoke(key.id);
        if (key.graceUntil !== null) await store.credentials.setGraceUntil(key.id, null);
        process.stdout.write(`revoked signing key ${key.lookupId}\n`);
        return;
      }
      default:
        throw new UsageError(sub === undefined ? 'signing-keys: missing subcommand' : `signing-keys: unknown subcommand "${sub}"`);
    }
  });
}

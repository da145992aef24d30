import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describeCertificate, dnKey, fingerprintLookupId, normaliseFingerprint, subjectLookupId } from '../../auth/mtls/index.js';
import type { JsonObject } from '../../storage/types.js';
import type { ParsedArgs } from '../args.js';
import { stringFlag } from '../args.js';
import { CliError, findConsumer, fmtDate, parseCliDuration, table, UsageError, withStore } from '../store-context.js';

const USAGE = `usage: portcullis certs add CONSUMER (--fingerprint SHA256 | --subject DN | --cert FILE [--by fingerprint|subject]) [--label L] [--scopes a,b] [--expires 365d] [--config FILE]
       portcullis certs list CONSUMER [--config FILE]
       portcullis certs revoke ID [--config FILE]
       portcullis certs remove ID [--config FILE]`;

interface Identity {
  readonly lookupId: string;
  readonly metadata: JsonObject;
}

/** What identifies the certificate in the Store: exactly one of --fingerprint, --subject, --cert. */
function identity(args: ParsedArgs): Identity {
  const fingerprint = stringFlag(args, 'fingerprint');
  const subject = stringFlag(args, 'subject');
  const file = stringFlag(args, 'cert');
  const given = [fingerprint, subject, file].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError('certs add: give exactly one of --fingerprint, --subject, --cert');
  if (file !== undefined) {
    let certificate;
    try {
      certificate = describeCertificate(new X509Certificate(readFileSync(file)));
    } catch (error) {
      throw new CliError(`--cert ${file}: not a readable PEM certificate (${(error as Error).message})`);
    }
    const by = stringFlag(args, 'by') ?? 'fingerprint';
    if (by !== 'fingerprint' && by !== 'subject') throw new UsageError('--by: fingerprint or subject');
    if (by === 'subject' && certificate.info.subject === '') throw new UsageError(`--cert ${file}: the certificate has an empty subject; map it by fingerprint`);
    return by === 'fingerprint'
      ? { lookupId: fingerprintLookupId(certificate.fingerprintHex), metadata: { fingerprint256: certificate.info.fingerprint256, subject: certificate.info.subject } }
      : { lookupId: subjectLookupId(certificate.subjectKey), metadata: { subject: certificate.info.subject } };
  }
  if (fingerprint !== undefined) {
    const hex = normaliseFingerprint(fingerprint);
    if (hex === undefined) throw new UsageError('--fingerprint: expected a SHA-256 fingerprint, 64 hex digits with or without colons');
    return { lookupId: fingerprintLookupId(hex), metadata: { fingerprint256: hex.toUpperCase().replace(/(..)(?!$)/g, '$1:') } };
  }
  try {
    return { lookupId: subjectLookupId(dnKey(subject!)), metadata: { subject: subject! } };
  } catch (error) {
    throw new UsageError(`--subject: ${(error as Error).message} (RFC 4514, such as "CN=orders,O=Acme")`);
  }
}

/**
 * `portcullis certs add|list|revoke|remove`: client certificates mapped to consumers for the mtls
 * method (`store: true`). Nothing secret is stored: the lookup id is the certificate's SHA-256
 * fingerprint or a hash of its subject DN, the readable form goes in the metadata. Every change is
 * published on `portcullis:credentials` so gateways drop their cached lookups at once.
 */
export async function certsCommand(args: ParsedArgs): Promise<number> {
  const [sub, target] = args.positionals;
  return withStore(args, USAGE, async ({ store, broadcast }) => {
    const need = (what: string) => {
      if (target === undefined) throw new UsageError(`certs ${sub}: missing ${what}`);
      return target;
    };
    const findCert = async (id: string) => {
      const credential = await store.credentials.get(id);
      if (credential === null || credential.type !== 'mtls') throw new CliError(`no mtls credential with id "${id}"`);
      return credential;
    };
    switch (sub) {
      case 'add': {
        const consumer = await findConsumer(store, need('CONSUMER'));
        const { lookupId, metadata } = identity(args);
        const expires = stringFlag(args, 'expires');
        const expiresAt = expires === undefined ? null : new Date(Date.now() + parseCliDuration('expires', expires));
        const scopes = (stringFlag(args, 'scopes') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        const existing = await store.credentials.findByLookup('mtls', lookupId);
        if (existing !== null) throw new CliError(`this certificate is already mapped (credential ${existing.id})`);
        // secretHash holds the lookup id: there is no secret, the TLS handshake proved possession of the key.
        const credential = await store.credentials.create({ consumerId: consumer.id, type: 'mtls', lookupId, secretHash: lookupId, label: stringFlag(args, 'label') ?? '', scopes, expiresAt, metadata });
        await broadcast([lookupId]);
        process.stdout.write(`${credential.id}\n`);
        process.stderr.write(`mapped ${String(metadata.fingerprint256 ?? metadata.subject)} to consumer ${consumer.name}\n`);
        return;
      }
      case 'list': {
        const consumer = await findConsumer(store, need('CONSUMER'));
        const rows = [['ID', 'BY', 'CERTIFICATE', 'LABEL', 'SCOPES', 'CREATED', 'EXPIRES', 'REVOKED']];
        for (const c of await store.credentials.listByConsumer(consumer.id)) {
          if (c.type !== 'mtls') continue;
          const byFingerprint = c.lookupId.startsWith('sha256:');
          const shown = String((byFingerprint ? c.metadata.fingerprint256 : c.metadata.subject) ?? c.lookupId);
          rows.push([c.id, byFingerprint ? 'fingerprint' : 'subject', shown, c.label || '-', c.scopes.join(',') || '-', fmtDate(c.createdAt), fmtDate(c.expiresAt), fmtDate(c.revokedAt)]);
        }
        process.stdout.write(table(rows));
        return;
      }
      case 'revoke': {
        const credential = await findCert(need('ID'));
        await store.credentials.revoke(credential.id);
        await broadcast([credential.lookupId]);
        process.stdout.write(`revoked mtls credential ${credential.id}\n`);
        return;
      }
      case 'remove': {
        const credential = await findCert(need('ID'));
        await store.credentials.delete(credential.id);
        await broadcast([credential.lookupId]);
        process.stdout.write(`removed mtls credential ${credential.id}\n`);
        return;
      }
      default:
        throw new UsageError(sub === undefined ? 'certs: missing subcommand' : `certs: unknown subcommand "${sub}"`);
    }
  });
}

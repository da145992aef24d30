import { hashPassword } from '../../auth/basic/index.js';
import type { ParsedArgs } from '../args.js';
import { stringFlag } from '../args.js';
import { CliError, findConsumer, UsageError, withStore } from '../store-context.js';

const USAGE = `usage: portcullis basic set-password CONSUMER USERNAME [--scopes a,b] [--config FILE]   (password on stdin)
       portcullis basic remove USERNAME [--config FILE]`;

/** The whole of stdin, minus one trailing newline (`echo pw |`, a here-string, or a typed line). */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password (then Enter, Ctrl-D): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * `portcullis basic set-password|remove`. The password is read from stdin, never from argv (which
 * other users see in process lists), and stored only as an scrypt hash. Both publish the username on
 * `portcullis:credentials` so every gateway forgets its cached verifications at once.
 */
export async function basicCommand(args: ParsedArgs): Promise<number> {
  const [sub, first, second] = args.positionals;
  return withStore(args, USAGE, async ({ store, broadcast, audit }) => {
    switch (sub) {
      case 'set-password': {
        if (first === undefined || second === undefined) throw new UsageError('basic set-password: expected CONSUMER USERNAME');
        if (second.includes(':') || /[\u0000-\u001f\u007f]/.test(second)) throw new UsageError('basic set-password: USERNAME cannot contain a colon or control characters (RFC 7617)');
        const consumer = await findConsumer(store, first);
        const password = await readPassword();
        if (password === '') throw new CliError('empty password on stdin');
        const existing = await store.credentials.findByLookup('basic', second);
        if (existing !== null && existing.consumerId !== consumer.id) throw new CliError(`username "${second}" belongs to another consumer`);
        const flag = stringFlag(args, 'scopes');
        const scopes = flag === undefined ? [...(existing?.scopes ?? [])] : flag.split(',').map((s) => s.trim()).filter((s) => s !== '');
        const secretHash = await hashPassword(password);
        // The Store has no secret update: replace the row (same username, same consumer).
        if (existing !== null) await store.credentials.delete(existing.id);
        await store.credentials.create({ consumerId: consumer.id, type: 'basic', lookupId: second, secretHash, label: existing?.label ?? '', scopes });
        await broadcast([second]);
        audit({ action: existing === null ? 'credential.create' : 'credential.update', target: second, detail: { type: 'basic', consumer: consumer.id, scopes } });
        process.stdout.write(`${existing === null ? 'set' : 'changed'} password for ${second} (consumer ${consumer.name})\n`);
        return;
      }
      case 'remove': {
        if (first === undefined) throw new UsageError('basic remove: missing USERNAME');
        const existing = await store.credentials.findByLookup('basic', first);
        if (existing === null) throw new CliError(`no basic credential for username "${first}"`);
        await store.credentials.delete(existing.id);
        await broadcast([first]);
        audit({ action: 'credential.delete', target: first, detail: { type: 'basic', consumer: existing.consumerId } });
        process.stdout.write(`removed basic credential ${first}\n`);
        return;
      }
      default:
        throw new UsageError(sub === undefined ? 'basic: missing subcommand' : `basic: unknown subcommand "${sub}"`);
    }
  });
}

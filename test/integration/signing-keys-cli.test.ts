import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authRoute } from '../helpers/auth-route.js';
import { startCliGateway, type CliGateway } from '../helpers/cli-gateway.js';
import type { EchoUpstream, TestGateway } from '../helpers/servers.js';

/**
 * `portcullis signing-keys create|list|revoke` against a temp SQLite store, then requests signed per
 * RFC 9421 with what the CLI made, through a real gateway whose http-signature method reads that store.
 */
describe('portcullis signing-keys', () => {
  let env: CliGateway;
  let dir: string;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  const ed = generateKeyPairSync('ed25519');
  const run = (...args: string[]) => env.run('signing-keys', ...args);

  /** An independent RFC 9421 signer for a GET (section 2.5 base; 3.3.4 HMAC-SHA256, 3.3.6 Ed25519). */
  async function signedGet(keyid: string, alg: 'hmac-sha256' | 'ed25519', key: Buffer | KeyObject): Promise<number> {
    const path = '/signed/orders?page=2';
    const params = `("@method" "@target-uri");created=${Math.floor(Date.now() / 1000)};keyid="${keyid}";nonce="${randomBytes(12).toString('base64url')}";alg="${alg}"`;
    const base = Buffer.from(`"@method": GET\n"@target-uri": http://${new URL(gw.url).host}${path}\n"@signature-params": ${params}`);
    const signature = alg === 'hmac-sha256' ? createHmac('sha256', key as Buffer).update(base).digest() : sign(null, base, key as KeyObject);
    // reset: a connection per request; spawnSync blocks this loop longer than the server's keep-alive.
    const res = await request(`${gw.url}${path}`, { reset: true, headers: { 'signature-input': `sig1=${params}`, signature: `sig1=:${signature.toString('base64')}:` } });
    await res.body.dump();
    return res.statusCode;
  }

  beforeAll(async () => {
    env = await startCliGateway('pcl-signing-cli-', authRoute('signed', 'http-signature', '{}'), 'dist/cli/commands/signing-keys.js');
    ({ dir, upstream, gw } = env);
    expect(env.run('consumers', 'create', 'acme').status).toBe(0);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('creates an HMAC-SHA256 secret shown once that signs requests the gateway accepts, until revoked', async () => {
    const created = run('create', 'acme', '--keyid', 'acme-hmac', '--scopes', 'orders:read,orders:write', '--label', 'billing');
    expect(created.status, created.stderr).toBe(0);
    const secret = Buffer.from(created.stdout.trim(), 'base64');
    expect(secret).toHaveLength(32);
    expect(created.stderr).toMatch(/created hmac-sha256 signing key acme-hmac for consumer acme.*shown once/);

    expect(await signedGet('acme-hmac', 'hmac-sha256', secret)).toBe(200);
    expect(upstream.seen.at(-1)!.headers['x-auth-method']).toBe('http-signature');
    expect(upstream.seen.at(-1)!.headers['x-auth-scopes']).toBe('orders:read orders:write');
    // Attacks: a guessed secret, and the right secret under another alg.
    expect(await signedGet('acme-hmac', 'hmac-sha256', randomBytes(32))).toBe(401);
    expect(await signedGet('acme-hmac', 'ed25519', ed.privateKey)).toBe(401);

    const listed = run('list', 'acme');
    expect(listed.stdout).toMatch(/^KEYID\s+ALG\s+LABEL\s+SCOPES/);
    expect(listed.stdout).toMatch(/acme-hmac\s+hmac-sha256\s+billing\s+orders:read,orders:write/);
    expect(listed.stdout).not.toContain(secret.toString('base64'));

    expect(run('revoke', 'acme-hmac').stdout).toContain('revoked signing key acme-hmac');
    // Read from the Store per request: the very next request is refused.
    expect(await signedGet('acme-hmac', 'hmac-sha256', secret)).toBe(401);
    expect(run('list', 'acme').stdout).toMatch(/acme-hmac .*\d{4}-\d\d-\d\dT\S+Z\s*$/m);
  }, 60_000);

  it('registers an Ed25519 public key from a PEM file; only the holder of its private key can sign', async () => {
    const pem = join(dir, 'acme-ed.pub.pem');
    writeFileSync(pem, ed.publicKey.export({ format: 'pem', type: 'spki' }));
    const created = run('create', 'acme', '--public-key', pem, '--keyid', 'acme-ed', '--expires', '30d');
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout.trim()).toBe('acme-ed');
    expect(created.stderr).toMatch(/registered ed25519 public key acme-ed for consumer acme, expires \d{4}-/);
    expect(await signedGet('acme-ed', 'ed25519', ed.privateKey)).toBe(200);
    expect(await signedGet('acme-ed', 'ed25519', generateKeyPairSync('ed25519').privateKey)).toBe(401);
    expect(run('list', 'acme').stdout).toMatch(/acme-ed\s+ed25519\s+-\s+-/);
  }, 60_000);

  it('refuses a private key, a non-Ed25519 key, a taken or malformed keyid and contradictory flags', () => {
    const privatePem = join(dir, 'private.pem');
    writeFileSync(privatePem, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const rsaPem = join(dir, 'rsa.pub.pem');
    writeFileSync(rsaPem, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }));
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');

    const cases: [string[], number, RegExp][] = [
      [['create', 'acme', '--public-key', privatePem], 1, /this is a private key/],
      [['create', 'acme', '--public-key', rsaPem], 1, /a rsa key, expected ed25519/],
      [['create', 'acme', '--public-key', garbage], 1, /not a PEM public key/],
      [['create', 'acme', '--alg', 'ed25519'], 2, /needs --public-key/],
      [['create', 'acme', '--keyid', 'has space"quote'], 2, /--keyid/],
      [['revoke', 'never-made'], 1, /no signing key with keyid "never-made"/],
    ];
    for (const [args, status, message] of cases) {
      const result = run(...args);
      expect([args.join(' '), result.status]).toEqual([args.join(' '), status]);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    }
    expect(run('create', 'acme', '--keyid', 'dup-1').status).toBe(0);
    const taken = run('create', 'acme', '--keyid', 'dup-1');
    expect([taken.status, taken.stderr]).toEqual([1, 'portcullis: keyid "dup-1" is taken\n']);
  }, 120_000);
});

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { configValidator } from '../../config/ajv.js';
import { MemoryStateStore } from '../../state/memory.js';
import { SqliteStore } from '../../storage/sqlite/store.js';
import type { AuthResult } from '../authenticator.js';
import { FakeClock } from '../jwt/test-fixtures.js';
import { BASIC_CHALLENGE, createBasicAuthenticator, type BasicAuthenticator } from './authenticator.js';
import { CREDENTIALS_CHANNEL } from '../api-key/authenticator.js';
import { HashQueueFullError } from './limiter.js';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, parsePasswordHash, scryptAsync, type ScryptFn, type ScryptParams } from './password.js';
import { BasicMethodSchema, type BasicMethodConfig } from './schema.js';

/** Cheap parameters for stored test hashes (the format carries them); the dummy keeps the defaults. */
const FAST: ScryptParams = { N: 1024, r: 8, p: 1 };

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

interface Counter {
  calls: ScryptParams[];
  running: number;
  maxRunning: number;
}

function counting(delayMs = 0): { scrypt: ScryptFn; counter: Counter } {
  const counter: Counter = { calls: [], running: 0, maxRunning: 0 };
  const scrypt: ScryptFn = async (password, salt, keylen, params) => {
    counter.calls.push(params);
    counter.running += 1;
    counter.maxRunning = Math.max(counter.maxRunning, counter.running);
    try {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return await scryptAsync(password, salt, keylen, params.N === DEFAULT_SCRYPT_PARAMS.N ? FAST : params);
    } finally {
      counter.running -= 1;
    }
  };
  return { scrypt, counter };
}

async function setup(config: Record<string, unknown> = {}, delayMs = 0) {
  const raw = structuredClone(config);
  if (!configValidator(BasicMethodSchema)(raw)) throw new Error('bad test config');
  const store = SqliteStore.open({ path: ':memory:' });
  const state = new MemoryStateStore();
  const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
  const { scrypt, counter } = counting(delayMs);
  const auth = createBasicAuthenticator(raw as BasicMethodConfig, makeDeps({ now: clock.now, store: async () => store, state: async () => state }), { scrypt });
  open.push(store, state, auth);
  const consumer = await store.consumers.create({ name: 'legacy' });
  const addUser = async (username: string, password: string, extra: { scopes?: string[]; expiresAt?: Date } = {}) =>
    store.credentials.create({ consumerId: consumer.id, type: 'basic', lookupId: username, secretHash: await hashPassword(password, FAST), ...extra });
  return { store, state, clock, auth, consumer, addUser, counter };
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
const run = (auth: BasicAuthenticator, authorization?: string): Promise<AuthResult> =>
  Promise.resolve(auth.authenticate(makeContext({ headers: authorization === undefined ? {} : { authorization } })));
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('basic authenticator', () => {
  it('authenticates valid credentials with the consumer, the username and the scopes', async () => {
    const { auth, addUser, consumer } = await setup();
    const credential = await addUser('alice', 'correct horse', { scopes: ['orders:read'] });
    expect(await run(auth, basic('alice', 'correct horse'))).toEqual({
      kind: 'authenticated',
      principal: { method: 'basic', consumerId: consumer.id, subject: 'alice', scopes: ['orders:read'], claims: { credentialId: credential.id } },
    });
    expect(auth.challenge).toBe('Basic realm="portcullis", charset="UTF-8"');
    expect(BASIC_CHALLENGE).toBe(auth.challenge);
  });

  it('is not applicable without Authorization: Basic, and strips the header when it is Basic', async () => {
    const { auth } = await setup();
    expect(await run(auth)).toEqual({ kind: 'not-applicable' });
    expect(await run(auth, 'Bearer abc')).toEqual({ kind: 'not-applicable' });
    const ctx = makeContext({ headers: { authorization: basic('x', 'y') } });
    await auth.authenticate(ctx);
    expect(ctx.upstreamHeaders).toEqual({ authorization: null });
  });

  it('rejects a wrong password, with the username as credential id', async () => {
    const { auth, addUser, counter } = await setup();
    await addUser('alice', 'correct horse');
    expect(await run(auth, basic('alice', 'wrong'))).toEqual({ kind: 'rejected', reason: 'basic: wrong password for user alice', credentialId: 'basic:alice' });
    expect(counter.calls).toHaveLength(1);
  });

  it('rejects an unknown user after one scrypt against a dummy hash, like a wrong password', async () => {
    const { auth, addUser, counter } = await setup();
    await addUser('alice', 'correct horse');
    expect(await run(auth, basic('alice', 'wrong'))).toMatchObject({ kind: 'rejected' });
    expect(await run(auth, basic('mallory', 'wrong'))).toEqual({ kind: 'rejected', reason: 'basic: unknown user mallory', credentialId: 'basic:mallory' });
    expect(counter.calls).toHaveLength(2);
    // The dummy hash costs what a default hash costs.
    expect(counter.calls[1]).toEqual(DEFAULT_SCRYPT_PARAMS);
  });

  it.each([
    ['not base64', 'Basic !!!'],
    ['bad padding', 'Basic YWxpY2U6cHc'],
    ['no colon', `Basic ${Buffer.from('alice').toString('base64')}`],
    ['empty token', 'Basic'],
    ['invalid UTF-8', `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`],
  ])('rejects a malformed header (%s) without scrypt', async (_name, header) => {
    const { auth, counter } = await setup();
    expect(await run(auth, header)).toMatchObject({ kind: 'rejected' });
    expect(counter.calls).toHaveLength(0);
  });

  it('caches a successful check so a repeat costs no scrypt; another password still does', async () => {
    const { auth, addUser, counter, clock } = await setup({ cacheTtl: '30s' });
    await addUser('alice', 'pw-1');
    for (let i = 0; i < 3; i++) expect((await run(auth, basic('alice', 'pw-1'))).kind).toBe('authenticated');
    expect(counter.calls).toHaveLength(1);
    expect(await run(auth, basic('alice', 'pw-2'))).toMatchObject({ kind: 'rejected' });
    expect(counter.calls).toHaveLength(2);
    clock.advance(30_000);
    await run(auth, basic('alice', 'pw-1'));
    expect(counter.calls).toHaveLength(3);
  });

  it('keys the cache by SHA-256 of username:password, never the password', async () => {
    const { auth, addUser } = await setup();
    await addUser('alice', 'pw-1');
    await run(auth, basic('alice', 'pw-1'));
    const key = createHash('sha256').update('alice:pw-1').digest('hex');
    expect(auth.cache.get(key, Date.parse('2030-01-01T00:00:00Z'))).toBeDefined();
  });

  it('refuses a revoked user, and a revocation message evicts the cached check at once', async () => {
    const { auth, addUser, store, state, clock, counter } = await setup({ cacheTtl: '5m' });
    const credential = await addUser('alice', 'pw');
    expect((await run(auth, basic('alice', 'pw'))).kind).toBe('authenticated');
    expect(auth.authenticate(makeContext({ headers: { authorization: basic('alice', 'pw') } }))).toMatchObject({ kind: 'authenticated' }); // cached: synchronous
    await store.credentials.revoke(credential.id, new Date(clock.now()));
    await state.publish(CREDENTIALS_CHANNEL, 'alice');
    await tick();
    expect(auth.cache.size).toBe(0);
    expect(await run(auth, basic('alice', 'pw'))).toEqual({ kind: 'rejected', reason: 'basic: user alice revoked', credentialId: 'basic:alice' });
    expect(counter.calls).toHaveLength(2);
  });

  it('refuses an expired user', async () => {
    const { auth, addUser, clock } = await setup();
    await addUser('alice', 'pw', { expiresAt: new Date(clock.now() + 60_000) });
    expect((await run(auth, basic('alice', 'pw'))).kind).toBe('authenticated');
    clock.advance(60_000);
    expect(await run(auth, basic('alice', 'pw'))).toMatchObject({ kind: 'rejected', reason: 'basic: user alice expired' });
  });

  it('runs at most maxConcurrentHashes scrypt computations at once', async () => {
    const { auth, addUser, counter } = await setup({ maxConcurrentHashes: 2 }, 20);
    await addUser('alice', 'pw');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => run(auth, basic('alice', `wrong-${i}`))));
    expect(results.every((r) => r.kind === 'rejected')).toBe(true);
    expect(counter.calls).toHaveLength(10);
    expect(counter.maxRunning).toBe(2);
    expect(auth.limiter.running).toBe(0);
  });

  it('fails with a fault (not a rejection) when the scrypt queue is full', async () => {
    const { auth, addUser } = await setup({ maxConcurrentHashes: 1, maxQueuedHashes: 1 }, 20);
    await addUser('alice', 'pw');
    const settled = await Promise.allSettled([1, 2, 3].map((i) => run(auth, basic('alice', `wrong-${i}`))));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(2);
    expect(settled.find((s) => s.status === 'rejected')).toMatchObject({ reason: expect.any(HashQueueFullError) });
  });
});

describe('basic password hashes', () => {
  it('stores scrypt$N$r$p$salt$hash with the default parameters, containing neither the password nor a fast hash of it', async () => {
    const password = 'correct horse battery staple';
    const stored = await hashPassword(password);
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{43}=\$[A-Za-z0-9+/]{86}==$/);
    const parsed = parsePasswordHash(stored)!;
    expect(parsed.salt).toHaveLength(32);
    expect(parsed.hash).toHaveLength(64);
    expect(stored).not.toContain(password);
    expect(stored).not.toContain(Buffer.from(password).toString('base64'));
    for (const algorithm of ['md5', 'sha1', 'sha256', 'sha512']) {
      const digest = createHash(algorithm).update(password).digest();
      expect(stored).not.toContain(digest.toString('base64'));
      expect(stored.toLowerCase()).not.toContain(digest.toString('hex'));
    }
    expect(await hashPassword(password)).not.toBe(stored); // random salt
  });

  it('refuses stored hashes it cannot or should not verify', () => {
    expect(parsePasswordHash('sha256:abc')).toBeUndefined();
    expect(parsePasswordHash('scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + 'A'.repeat(44))).toBeUndefined(); // N not a power of two
    expect(parsePasswordHash('scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + 'A'.repeat(44))).toBeUndefined(); // N too large
  });
});

import { createHash, createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { makeContext, makeDeps } from '../../../test/helpers/context.js';
import { configValidator } from '../../config/ajv.js';
import { MemoryStateStore } from '../../state/memory.js';
import { SqliteStore } from '../../storage/sqlite/store.js';
import type { AuthResult } from '../authenticator.js';
import { FakeClock } from '../jwt/test-fixtures.js';
import { createHttpSignatureAuthenticator } from './authenticator.js';
import { HttpSignatureMethodSchema, type HttpSignatureMethodConfig } from './schema.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

const HMAC_SECRET = randomBytes(32);
const ed = generateKeyPairSync('ed25519');
const ED_SPKI = ed.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

async function setup(config: Record<string, unknown> = {}, now = Date.parse('2030-01-01T00:00:00Z')) {
  const raw = structuredClone(config);
  if (!configValidator(HttpSignatureMethodSchema)(raw)) throw new Error('bad test config');
  const sqlite = SqliteStore.open({ path: ':memory:' });
  const state = new MemoryStateStore();
  const clock = new FakeClock(now);
  const auth = createHttpSignatureAuthenticator(raw as HttpSignatureMethodConfig, makeDeps({ now: clock.now, store: async () => sqlite, state: async () => state }));
  open.push(sqlite, state);
  const consumer = await sqlite.consumers.create({ name: 'acme' });
  const add = (lookupId: string, secretHash: string, extra: { expiresAt?: Date } = {}) =>
    sqlite.credentials.create({ consumerId: consumer.id, type: 'hmac', lookupId, secretHash, scopes: ['orders:write'], ...extra });
  await add('hmac-key', `hmac-sha256:base64:${HMAC_SECRET.toString('base64')}`);
  await add('ed-key', `ed25519:${ED_SPKI}`);
  return { sqlite, state, clock, auth, consumer, add };
}

interface Req {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** An independent RFC 9421 signer (section 2.5 base, section 3.3.4 / 3.3.6 algorithms) for a request over http. */
function signed(req: Req, opts: { keyid: string; components?: string[]; created: number; nonce?: string; expires?: number; alg?: string }): Req {
  const headers: Record<string, string> = { host: 'api.example.com', ...req.headers };
  if (req.body !== undefined) {
    headers['content-length'] = String(req.body.length);
    headers['content-digest'] ??= `sha-256=:${createHash('sha256').update(req.body).digest('base64')}:`;
  }
  const components = opts.components ?? ['@method', '@target-uri', ...(req.body ? ['content-digest'] : [])];
  const value = (c: string): string => {
    const q = req.url.indexOf('?');
    if (c === '@method') return req.method;
    if (c === '@target-uri') return `http://${headers.host}${req.url}`;
    if (c === '@authority') return headers.host!;
    if (c === '@path') return q < 0 ? req.url : req.url.slice(0, q);
    if (c === '@query') return q < 0 ? '?' : req.url.slice(q);
    return headers[c]!.trim();
  };
  let params = `(${components.map((c) => `"${c}"`).join(' ')});created=${opts.created}`;
  if (opts.expires !== undefined) params += `;expires=${opts.expires}`;
  params += `;keyid="${opts.keyid}"`;
  if (opts.nonce !== '') params += `;nonce="${opts.nonce ?? randomBytes(12).toString('base64url')}"`;
  if (opts.alg !== undefined) params += `;alg="${opts.alg}"`;
  const base = [...components.map((c) => `"${c}": ${value(c)}`), `"@signature-params": ${params}`].join('\n');
  const sig = opts.keyid.startsWith('ed') ? sign(null, Buffer.from(base), ed.privateKey) : createHmac('sha256', HMAC_SECRET).update(base).digest();
  return { ...req, headers: { ...headers, 'signature-input': `sig1=${params}`, signature: `sig1=:${sig.toString('base64')}:` } };
}

function run(auth: { authenticate: (ctx: ReturnType<typeof makeContext>) => AuthResult | Promise<AuthResult> }, req: Req) {
  const ctx = makeContext({ method: req.method, url: req.url, headers: req.headers });
  if (req.body !== undefined) {
    ctx.req.push(req.body);
    ctx.req.push(null);
  }
  return Promise.resolve(auth.authenticate(ctx)).then((result) => ({ result, ctx }));
}

const reason = (r: AuthResult) => (r.kind === 'rejected' ? r.reason : r.kind);
const POST = (body = '{"id":1}'): Req => ({ method: 'POST', url: '/orders?x=1', headers: { 'content-type': 'application/json' }, body: Buffer.from(body) });

describe('http-signature authenticator', () => {
  it('is not applicable without Signature and Signature-Input', async () => {
    const { auth } = await setup();
    expect((await run(auth, { method: 'GET', url: '/', headers: {} })).result.kind).toBe('not-applicable');
  });

  it('authenticates an hmac-sha256 signed POST and buffers its body for forwarding', async () => {
    const { auth, clock, consumer } = await setup();
    const { result, ctx } = await run(auth, signed(POST(), { keyid: 'hmac-key', created: clock.seconds, alg: 'hmac-sha256' }));
    expect(result).toEqual({
      kind: 'authenticated',
      principal: expect.objectContaining({ method: 'http-signature', consumerId: consumer.id, subject: consumer.id, scopes: ['orders:write'] }),
    });
    expect(ctx.body?.toString()).toBe('{"id":1}');
  });

  it('authenticates an ed25519 signature, with a sha-512 Content-Digest', async () => {
    const { auth, clock } = await setup();
    const req = POST();
    req.headers['content-digest'] = `sha-512=:${createHash('sha512').update(req.body!).digest('base64')}:`;
    const { result } = await run(auth, signed(req, { keyid: 'ed-key', created: clock.seconds, alg: 'ed25519' }));
    expect(reason(result)).toBe('authenticated');
  });

  it('authenticates a GET without content-digest (no body)', async () => {
    const { auth, clock } = await setup();
    const { result } = await run(auth, signed({ method: 'GET', url: '/orders/1', headers: {} }, { keyid: 'ed-key', created: clock.seconds }));
    expect(reason(result)).toBe('authenticated');
  });

  it('refuses a replayed nonce', async () => {
    const { auth, clock } = await setup();
    const req = signed(POST(), { keyid: 'hmac-key', created: clock.seconds, nonce: 'n-1' });
    expect(reason((await run(auth, req)).result)).toBe('authenticated');
    expect(reason((await run(auth, req)).result)).toBe('http-signature: nonce replayed for keyid hmac-key');
  });

  it('refuses a stale created, a future created, an expired signature and a missing nonce', async () => {
    const { auth, clock } = await setup();
    const get = { method: 'GET', url: '/a', headers: {} };
    expect(reason((await run(auth, signed(get, { keyid: 'ed-key', created: clock.seconds - 331 }))).result)).toMatch(/older than maxAge/);
    expect(reason((await run(auth, signed(get, { keyid: 'ed-key', created: clock.seconds + 60 }))).result)).toMatch(/in the future/);
    expect(reason((await run(auth, signed(get, { keyid: 'ed-key', created: clock.seconds - 60, expires: clock.seconds - 31 }))).result)).toMatch(/signature expired/);
    expect(reason((await run(auth, signed(get, { keyid: 'ed-key', created: clock.seconds, nonce: '' }))).result)).toBe('http-signature: nonce parameter missing');
  });

  it('refuses a tampered body (Content-Digest mismatch)', async () => {
    const { auth, clock } = await setup();
    const req = signed(POST('{"amount":1}'), { keyid: 'hmac-key', created: clock.seconds });
    const { result } = await run(auth, { ...req, body: Buffer.from('{"amount":9}') });
    expect(reason(result)).toBe('http-signature: content-digest sha-256 does not match the body');
  });

  it('answers 413 when a digest-covered body is over maxBodyBytes', async () => {
    const { auth, clock } = await setup({ maxBodyBytes: 16 });
    const req = signed(POST('x'.repeat(17)), { keyid: 'hmac-key', created: clock.seconds });
    await expect(run(auth, req)).rejects.toMatchObject({ code: 'GW_REQUEST_TOO_LARGE' });
  });

  it('refuses a tampered method or path', async () => {
    const { auth, clock } = await setup();
    const req = signed({ method: 'GET', url: '/orders/1', headers: {} }, { keyid: 'hmac-key', created: clock.seconds });
    expect(reason((await run(auth, { ...req, method: 'DELETE' })).result)).toBe('http-signature: bad signature for keyid hmac-key');
    expect(reason((await run(auth, { ...req, url: '/orders/2' })).result)).toBe('http-signature: bad signature for keyid hmac-key');
  });

  it('refuses a signature missing a required component', async () => {
    const { auth, clock } = await setup();
    const noDigest = signed(POST(), { keyid: 'hmac-key', created: clock.seconds, components: ['@method', '@target-uri'] });
    expect(reason((await run(auth, noDigest)).result)).toBe('http-signature: required component content-digest not covered');
    const noMethod = signed({ method: 'GET', url: '/', headers: {} }, { keyid: 'hmac-key', created: clock.seconds, components: ['@target-uri'] });
    expect(reason((await run(auth, noMethod)).result)).toBe('http-signature: required component @method not covered');
  });

  it('refuses an unknown keyid, an expired credential and a mismatched alg', async () => {
    const { auth, clock, add } = await setup();
    const get = { method: 'GET', url: '/', headers: {} };
    expect(reason((await run(auth, signed(get, { keyid: 'hmac-nobody', created: clock.seconds }))).result)).toBe('http-signature: unknown keyid hmac-nobody');
    await add('hmac-old', `hmac-sha256:base64:${HMAC_SECRET.toString('base64')}`, { expiresAt: new Date(clock.ms - 1000) });
    expect(reason((await run(auth, signed(get, { keyid: 'hmac-old', created: clock.seconds }))).result)).toBe('http-signature: key hmac-old expired');
    expect(reason((await run(auth, signed(get, { keyid: 'hmac-key', created: clock.seconds, alg: 'ed25519' }))).result)).toMatch(/alg ed25519 does not match/);
  });

  it('verifies the RFC 9421 Appendix B.2.5 HMAC-SHA256 test vector exactly', async () => {
    // RFC 9421 Appendix B.1.5 shared secret and the Appendix B.2 test request.
    const { auth, add } = await setup({ requiredComponents: [], requireNonce: false, maxAge: '1h' }, 1618884473_000);
    await add('test-shared-secret', 'hmac-sha256:base64:uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==');
    const body = Buffer.from('{"hello": "world"}');
    const headers = {
      host: 'example.com',
      date: 'Tue, 20 Apr 2021 02:07:55 GMT',
      'content-type': 'application/json',
      'content-digest': 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
      'content-length': '18',
      'signature-input': 'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
      signature: 'sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:',
    };
    const req = { method: 'POST', url: '/foo?param=Value&Pet=dog', headers, body };
    expect(reason((await run(auth, req)).result)).toBe('authenticated');
    expect(reason((await run(auth, { ...req, headers: { ...headers, date: 'Tue, 20 Apr 2021 02:07:56 GMT' } })).result)).toMatch(/bad signature/);
  });
});

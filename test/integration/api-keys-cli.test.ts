import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { hashApiKey, parseApiKey } from '../../src/auth/api-key/format.js';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { startCliGateway, type CliGateway } from '../helpers/cli-gateway.js';
import type { EchoUpstream, TestGateway } from '../helpers/servers.js';

/** `portcullis consumers` and `portcullis keys` against a temp SQLite store, checked through a real gateway. */
describe('portcullis consumers / keys', () => {
  let env: CliGateway;
  let dir: string;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  const run = (...args: string[]) => env.run(...args);
  const call = async (key: string) => {
    const res = await request(`${gw.url}/x`, { headers: { 'x-api-key': key }, reset: true });
    await res.body.dump();
    return res.statusCode;
  };

  beforeAll(async () => {
    // cacheTtl 0: the CLI's in-memory StateStore cannot reach this process, so every request reads the store.
    const route = `  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: api-key, config: { cacheTtl: 0 } }] }
`;
    env = await startCliGateway('pcl-keys-cli-', route);
    ({ dir, upstream, gw } = env);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('creates a consumer and a key that authenticates; only its hash is stored and list shows no secret', async () => {
    const created = run('consumers', 'create', 'acme', '--tag', 'gold', '--tag', 'eu', '--plan', 'pro');
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/created consumer acme \(cons_/);
    expect(run('consumers', 'create', 'acme').status).toBe(1);
    expect(run('consumers', 'show', 'acme').stdout).toMatch(/tags: +gold, eu/);

    const made = run('keys', 'create', 'acme', '--label', 'ci', '--scopes', 'orders:read,orders:write', '--expires', '30d');
    expect(made.status).toBe(0);
    expect(made.stderr).toMatch(/keeps only its hash/);
    const key = made.stdout.trim();
    const parsed = parseApiKey(key);
    expect(parsed.ok).toBe(true);
    const keyId = parsed.ok ? parsed.keyId : '';

    const store = SqliteStore.open({ path: join(dir, 'gw.db') });
    const credential = await store.credentials.findByLookup('api-key', keyId);
    await store.close();
    expect(credential).toMatchObject({ secretHash: hashApiKey(key), label: 'ci', scopes: ['orders:read', 'orders:write'] });
    expect(readFileSync(join(dir, 'gw.db')).includes(key.slice(17))).toBe(false);

    expect(await call(key)).toBe(200);
    expect(upstream.seen.at(-1)!.headers['x-auth-scopes']).toBe('orders:read orders:write');

    const list = run('keys', 'list', 'acme');
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(keyId);
    expect(list.stdout).not.toContain(key.slice(17));
    expect(list.stdout).not.toContain('sha256');
  }, 60_000);

  it('rotates a key (the old one keeps working in its grace period) and revokes', async () => {
    const key = run('keys', 'create', 'acme').stdout.trim();
    const oldId = key.slice(4, 16);
    const rotated = run('keys', 'rotate', oldId, '--grace', '1h');
    expect(rotated.status).toBe(0);
    const fresh = rotated.stdout.trim();
    expect(parseApiKey(fresh).ok).toBe(true);
    expect(fresh).not.toBe(key);
    expect(await call(fresh)).toBe(200);
    expect(await call(key)).toBe(200);

    const revoked = run('keys', 'revoke', oldId);
    expect(revoked.status).toBe(0);
    expect(await call(key)).toBe(401);
    expect(await call(fresh)).toBe(200);
  }, 60_000);

  it('exits 2 on usage errors, 1 on unknown names, and deletes a consumer with its keys', async () => {
    expect(run('keys').status).toBe(2);
    expect(run('consumers', 'frob').status).toBe(2);
    expect(run('keys', 'create', 'acme', '--expires', 'soon').status).toBe(2);
    const missing = run('keys', 'revoke', 'nope');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no api key with key id "nope"');
    const key = run('keys', 'create', 'acme').stdout.trim();
    expect(run('consumers', 'delete', 'acme').status).toBe(0);
    expect(run('consumers', 'list').stdout).not.toContain('acme');
    expect(await call(key)).toBe(401);
  }, 60_000);
});

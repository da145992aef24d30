import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { startCliGateway, type CliGateway } from '../helpers/cli-gateway.js';
import type { EchoUpstream, TestGateway } from '../helpers/servers.js';

/** `portcullis basic set-password|remove` against a temp SQLite store, checked through a real gateway. */
describe('portcullis basic', () => {
  let env: CliGateway;
  let dir: string;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  const run = (input: string, ...args: string[]) => env.runWithInput(input, ...args);
  const call = async (user: string, password: string) => {
    const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const res = await request(`${gw.url}/x`, { headers: { authorization }, reset: true });
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
        config: { methods: [{ type: basic, config: { cacheTtl: 0 } }] }
`;
    env = await startCliGateway('pcl-basic-cli-', route);
    ({ dir, upstream, gw } = env);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('sets a password from stdin that authenticates, stores only its scrypt hash, and removes it', async () => {
    expect(run('', 'consumers', 'create', 'legacy').status).toBe(0);
    const password = 'from-stdin-Zq81';
    const set = run(`${password}\n`, 'basic', 'set-password', 'legacy', 'bob', '--scopes', 'orders:read');
    expect(set.status).toBe(0);
    expect(set.stdout).toContain('set password for bob');

    const store = SqliteStore.open({ path: join(dir, 'gw.db') });
    const credential = await store.credentials.findByLookup('basic', 'bob');
    await store.close();
    expect(credential!.secretHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(readFileSync(join(dir, 'gw.db')).includes(password)).toBe(false);

    expect(await call('bob', password)).toBe(200);
    expect(upstream.seen.at(-1)!.headers['x-auth-subject']).toBe('bob');
    expect(upstream.seen.at(-1)!.headers['x-auth-scopes']).toBe('orders:read');
    expect(await call('bob', 'other')).toBe(401);

    expect(run('changed-pw\n', 'basic', 'set-password', 'legacy', 'bob').stdout).toContain('changed password for bob');
    expect(await call('bob', password)).toBe(401);
    expect(await call('bob', 'changed-pw')).toBe(200);
    expect(upstream.seen.at(-1)!.headers['x-auth-scopes']).toBe('orders:read');

    expect(run('', 'basic', 'set-password', 'legacy', 'carol').status).toBe(1); // empty password
    expect(run('', 'basic', 'remove', 'bob').status).toBe(0);
    expect(await call('bob', 'changed-pw')).toBe(401);
    expect(run('', 'basic', 'remove', 'bob').status).toBe(1);
    expect(run('', 'basic', 'set-password', 'legacy').status).toBe(2);
  }, 60_000);
});

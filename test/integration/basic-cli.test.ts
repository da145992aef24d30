import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { SqliteStore } from '../../src/storage/sqlite/store.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';

const root = join(import.meta.dirname, '../..');
const cli = join(root, 'dist/main.js');

/** `portcullis basic set-password|remove` against a temp SQLite store, checked through a real gateway. */
describe('portcullis basic', () => {
  let dir: string;
  let config: string;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  const run = (input: string, ...args: string[]) => spawnSync(process.execPath, [cli, ...args, '--config', config], { input, encoding: 'utf8', timeout: 20_000 });
  const call = async (user: string, password: string) => {
    const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const res = await request(`${gw.url}/x`, { headers: { authorization }, reset: true });
    await res.body.dump();
    return res.statusCode;
  };

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/cli/commands/basic.js'))) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'ignore' });
    dir = mkdtempSync(join(tmpdir(), 'pcl-basic-cli-'));
    upstream = await startUpstreamEcho();
    // cacheTtl 0: the CLI's in-memory StateStore cannot reach this process, so every request reads the store.
    const yaml = `version: 1
server: { listeners: [{ host: 127.0.0.1, port: 0 }] }
admin: { enabled: false }
storage: { backend: sqlite, sqlite: { path: ./gw.db } }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: basic, config: { cacheTtl: 0 } }] }
`;
    config = join(dir, 'gw.yaml');
    writeFileSync(config, yaml);
    gw = await startGateway(yaml, { file: config });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
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

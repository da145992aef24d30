import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { loadConfigFile } from '../../src/config/load.js';
import { ensureBuilt, MAIN, removeTempDirs, tempDir } from '../helpers/child-gateway.js';
import { startGateway, startUpstreamEcho, type EchoUpstream, type TestGateway } from '../helpers/servers.js';
import { newSigner } from '../audit/helpers.js';

/** The audit log end to end on the SQLite store: gateway decisions, CLI changes, reloads, verify and export. */
describe('portcullis audit (store sink)', () => {
  let dir: string;
  let config: string;
  let yaml: string;
  let upstream: EchoUpstream;
  let gw: TestGateway;
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args, '--config', config], { encoding: 'utf8', timeout: 30_000 });
  // A fresh connection each time: CLI calls take seconds, longer than the gateway's keep-alive.
  const status = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${gw.url}${path}`, { headers, reset: true });
    await res.body.dump();
    return res.statusCode;
  };
  const exported = (...filters: string[]) => run('audit', 'export', ...filters).stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditRecord);

  beforeAll(async () => {
    await ensureBuilt();
    dir = tempDir();
    const { pemPath } = newSigner(dir);
    upstream = await startUpstreamEcho();
    yaml = `version: 1
server: { listeners: [{ host: 127.0.0.1, port: 0 }] }
admin: { enabled: false }
storage: { backend: sqlite, sqlite: { path: ./gw.db } }
audit:
  enabled: true
  sink: store
  flushInterval: 50ms
  signing: { privateKey: ${pemPath}, keyId: ops-2026 }
upstreams:
  up: { targets: [{ url: "${upstream.url}" }] }
routes:
  - name: orders
    match: { paths: ["/orders/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { methods: [{ type: api-key, config: { cacheTtl: 0 } }] }
  - name: open
    match: { paths: ["/open"] }
    forward: { upstream: up }
`;
    config = join(dir, 'gw.yaml');
    writeFileSync(config, yaml);
    gw = await startGateway(yaml, { file: config });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    removeTempDirs();
  });

  it('records denials, CLI changes and reloads; verify passes and export filters', async () => {
    expect(await status('/orders/1', { 'x-api-key': 'pcl_bogus' })).toBe(401);
    expect(await status('/open')).toBe(200);
    expect(run('consumers', 'create', 'acme').status).toBe(0);
    const key = run('keys', 'create', 'acme');
    expect(key.status).toBe(0);
    expect(await status('/orders/2', { 'x-api-key': key.stdout.trim() })).toBe(200);
    await gw.gateway.reload(loadConfigFile(config));
    await gw.gateway.audit!.flush();

    const verify = run('audit', 'verify');
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toMatch(/^ok: \d+ records, \d+ signed checkpoints, seq 1\.\.\d+/);

    const all = exported();
    const decisions = all.filter((r) => r.kind === 'decision');
    // One denial; the allowed requests left no record.
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ action: 'request.deny', route: 'orders', target: 'GET /orders/1', policy: 'authenticate', source: '127.0.0.1' });
    const admin = all.filter((r) => r.kind === 'admin');
    expect(admin.map((r) => r.action)).toEqual(['consumer.create', 'credential.create']);
    expect(admin[0]!.actor).toMatch(/^cli:.+@.+/);
    // The key itself never reaches the audit log, only its public key id.
    expect(JSON.stringify(admin)).not.toContain(key.stdout.trim());
    expect(all.filter((r) => r.kind === 'config')).toMatchObject([{ action: 'config.reload', outcome: 'applied', actor: 'gateway' }]);
    expect(all.filter((r) => r.kind === 'checkpoint').length).toBeGreaterThan(0);
    // The filters themselves run in the store (contract tests); here, that the CLI passes them on.
    expect(exported('--route', 'orders', '--outcome', 'deny', '--since', '1h').map((r) => r.seq)).toEqual(decisions.map((r) => r.seq));
    expect(exported('--until', '2001-01-01T00:00:00Z')).toEqual([]);
  }, 120_000);

  it('exits 3 and names the record when a row was changed, and refuses a checkpoint key it does not know', async () => {
    const other = newSigner(join(dir, '..'));
    const wrongKey = run('audit', 'verify', '--public-key', other.pemPath!);
    expect(wrongKey.status).toBe(3);
    expect(wrongKey.stdout).toMatch(/^TAMPERED: modified record at position \d+ \(seq \d+\): checkpoint/);

    const db = new BetterSqlite3(join(dir, 'gw.db'));
    // The denial is batched while the CLI writes at once, so its place in the chain depends on timing.
    const { seq } = db.prepare("SELECT seq FROM audit_records WHERE kind = 'decision'").get() as { seq: number };
    db.prepare("UPDATE audit_records SET body = replace(body, '\"outcome\":\"deny\"', '\"outcome\":\"allow\"') WHERE kind = 'decision'").run();
    db.close();
    const tampered = run('audit', 'verify');
    expect(tampered.status).toBe(3);
    expect(tampered.stdout).toMatch(new RegExp(`^TAMPERED: modified record at position ${seq} \\(seq ${seq}\\)`));
    expect(readFileSync(config, 'utf8')).toContain('audit:');
  }, 60_000);
});

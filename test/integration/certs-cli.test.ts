import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliGatewayWithConfig, type CliGateway } from '../helpers/cli-gateway.js';
import { clientIdentity, fetchOnce, tlsFixture } from '../helpers/tls-clients.js';

const san = clientIdentity('client-san');
const unmapped = clientIdentity('client-unmapped');

/** `portcullis certs add|list|revoke|remove` against a temp SQLite store, checked through a real mTLS gateway. */
describe('portcullis certs', () => {
  let env: CliGateway;
  const run = (...args: string[]) => env.run(...args);
  const status = async (identity: ReturnType<typeof clientIdentity>) => (await fetchOnce(env.gw.port, '/x', { identity })).status;

  // Each CLI run is a fresh Node process (seconds on a loaded machine): the tests get a generous timeout.
  beforeAll(async () => {
    // cacheTtl 0: the CLI's in-memory StateStore cannot reach this process, so every request reads the store.
    env = await startCliGatewayWithConfig('pcl-certs-cli-', (upstreamUrl) => `version: 1
server:
  listeners:
    - host: 127.0.0.1
      port: 0
      tls: { cert: "${tlsFixture('server.pem')}", key: "${tlsFixture('server.key')}", clientCertificates: { mode: optional, ca: "${tlsFixture('ca.pem')}" } }
admin: { enabled: false }
storage: { backend: sqlite, sqlite: { path: ./gw.db } }
upstreams:
  up: { targets: [{ url: "${upstreamUrl}" }] }
routes:
  - name: all
    match: { paths: ["/*"] }
    forward: { upstream: up }
    policies:
      - name: authenticate
        config: { lockout: { enabled: false }, methods: [{ type: mtls, config: { store: true, cacheTtl: 0 } }] }
`, 'dist/cli/commands/certs.js');
  });
  afterAll(() => env?.close());

  it('maps a certificate file by fingerprint and a subject DN, lists them, and revokes and removes them', async () => {
    expect(run('consumers', 'create', 'acme').status).toBe(0);
    expect(await status(san)).toBe(401);
    const byCert = run('certs', 'add', 'acme', '--cert', tlsFixture('client-san.pem'), '--scopes', 'orders:read', '--label', 'orders');
    expect(byCert.status).toBe(0);
    const certId = byCert.stdout.trim();
    expect(certId).toMatch(/^cred_/);
    expect(await status(san)).toBe(200);
    expect(env.upstream.seen.at(-1)!.headers['x-auth-scopes']).toBe('orders:read');

    expect(await status(unmapped)).toBe(401);
    const bySubject = run('certs', 'add', 'acme', '--subject', 'CN=portcullis-unmapped-client');
    expect(bySubject.status).toBe(0);
    expect(await status(unmapped)).toBe(200);

    const list = run('certs', 'list', 'acme');
    expect(list.stdout).toContain(san.fingerprint256);
    expect(list.stdout).toContain('CN=portcullis-unmapped-client');

    expect(run('certs', 'revoke', certId).status).toBe(0);
    expect(await status(san)).toBe(401);
    expect(run('certs', 'remove', bySubject.stdout.trim()).status).toBe(0);
    expect(await status(unmapped)).toBe(401);
  }, 240_000);

  it('refuses a second mapping of the same certificate, ambiguous flags and a malformed fingerprint', () => {
    expect(run('consumers', 'create', 'beta').status).toBe(0);
    const fp = unmapped.fingerprint256;
    expect(run('certs', 'add', 'beta', '--fingerprint', fp).status).toBe(0);
    const again = run('certs', 'add', 'beta', '--cert', tlsFixture('client-unmapped.pem'));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already mapped/);
    expect(run('certs', 'add', 'beta', '--fingerprint', fp, '--subject', 'CN=x').status).toBe(2);
    const bad = run('certs', 'add', 'beta', '--fingerprint', 'abcd');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--fingerprint: expected a SHA-256 fingerprint/);
  }, 240_000);
});

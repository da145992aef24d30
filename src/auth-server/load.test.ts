import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { loadAuthServerConfigFile, loadAuthServerConfigText } from './load.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/auth-server.yaml', import.meta.url));

function issues(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadAuthServerConfigText(text, '/cfg/auth.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.field}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('auth-server config', () => {
  it('loads the example file with defaults filled in, frozen', () => {
    const { config } = loadAuthServerConfigFile(EXAMPLE);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(config.clients.map((c) => c.clientId)).toEqual(['demo-client', 'portcullis-gateway']);
    expect(config.clients[0]).toMatchObject({ grantTypes: ['client_credentials'], introspection: false, scopes: ['read', 'write'] });
    expect(config.clients[1]).toMatchObject({ introspection: true, scopes: [] });
    expect(config.resources[0]).toMatchObject({ indicator: 'https://api.portcullis.local/jwt', accessTokenFormat: 'jwt' });
    expect(config.state.maxEntries).toBe(100_000);
    // The quick start's gateway Store file (examples/quickstart.yaml), relative to examples/.
    expect(config.storage).toMatchObject({ backend: 'sqlite', sqlite: { path: '../data/portcullis.db' }, purgeInterval: '1m' });
    expect(Object.isFrozen(config.clients[0])).toBe(true);
  });

  it('reads only the authServer section of a gateway config file', () => {
    const { config } = loadAuthServerConfigText('version: 1\nroutes: []\nauthServer:\n  listen: { port: 9100 }\n', '/cfg/gw.yaml');
    expect(config.listen.port).toBe(9100);
    // Left out, storage is the gateway's default SQLite file beside the config.
    expect(config.storage).toMatchObject({ backend: 'sqlite', sqlite: { path: './data/portcullis.db' } });
  });

  it('substitutes ${ENV:NAME} in secrets and reports a missing variable by field', () => {
    const text = 'clients:\n  - clientId: gw\n    clientSecret: ${ENV:GW_SECRET}\n    introspection: true\n';
    expect(loadAuthServerConfigText(text, '/cfg/a.yaml', { GW_SECRET: 'from-the-env' }).config.clients[0]?.clientSecret).toBe('from-the-env');
    expect(issues(text)).toEqual(['clients[0].clientSecret: environment variable GW_SECRET is not set']);
  });

  it('refuses unknown fields, short secrets and unsupported grants', () => {
    const found = issues('clients:\n  - clientId: a\n    clientSecret: short\n    grantTypes: [password]\n    colour: blue\n');
    expect(found).toEqual(
      expect.arrayContaining([
        'clients[0]: unknown field "colour"',
        expect.stringMatching(/^clients\[0\]\.clientSecret: /),
        expect.stringMatching(/^clients\[0\]\.grantTypes\[0\]: /),
      ]),
    );
  });

  it('refuses duplicate clients, unknown resource references and two key sources', () => {
    const text = [
      'clients:',
      '  - { clientId: a, clientSecret: secret-one, resources: ["https://api.example/x"] }',
      '  - { clientId: a, clientSecret: secret-two }',
      'keys:',
      '  jwksFile: keys.json',
      '  jwks: [{ kty: RSA }]',
    ].join('\n');
    expect(issues(text)).toEqual([
      'clients[0].resources[0]: unknown resource "https://api.example/x"',
      'clients[1].clientId: duplicate client "a"',
      'keys: set either jwks or jwksFile, not both',
    ]);
  });

  it('refuses an issuer with a query or fragment (RFC 8414 section 2)', () => {
    expect(issues('issuer: "https://auth.example/?x=1"\n')).toEqual(['issuer: must be an http(s) URL without query or fragment']);
  });
});

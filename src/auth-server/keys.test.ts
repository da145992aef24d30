import { Writable } from 'node:stream';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet } from 'jose';
import pino from 'pino';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { KeyConfigError, loadSigningKeys } from './keys.js';
import { loadAuthServerConfigText } from './load.js';
import { startAuthServer } from './server.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const CONFIG = `
listen: { port: 0 }
storage: { backend: memory }
clients:
  - { clientId: app, clientSecret: app-secret, scopes: [read], resources: ["https://api.example/"] }
resources:
  - { indicator: "https://api.example/", accessTokenFormat: jwt, scopes: [read], audience: api }
`;

describe('signing keys', () => {
  it('signs JWT access tokens with a configured ES256 key, by its kid', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'es-1' };
    const { config } = loadAuthServerConfigText(`${CONFIG}keys:\n  jwks: [${JSON.stringify(jwk)}]\n`, '/cfg/a.yaml');
    const { logger, lines } = capture();
    const server = await startAuthServer(config, { logger });
    try {
      const res = await request(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=app&client_secret=app-secret&scope=read&resource=https%3A%2F%2Fapi.example%2F',
      });
      const body = (await res.body.json()) as { access_token: string };
      expect(body, JSON.stringify(body)).toHaveProperty("access_token");
      const jwks = (await (await request(`${server.url}/jwks`)).body.json()) as JSONWebKeySet;
      const { payload, protectedHeader } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), { audience: 'api', issuer: server.issuer });
      expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'es-1', typ: 'at+jwt' });
      expect(payload.scope).toBe('read');
      expect(lines.some((l) => String(l['msg']).includes('ephemeral'))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('generates an ephemeral RS256 key and warns that tokens will not survive a restart', async () => {
    const { config } = loadAuthServerConfigText(CONFIG, '/cfg/a.yaml');
    const { logger, lines } = capture();
    const server = await startAuthServer(config, { logger });
    await server.close();
    const warning = lines.find((l) => l['level'] === 40);
    expect(String(warning?.['msg'])).toMatch(/ephemeral key.*restart/);
  });

  it('refuses a public key, a symmetric key and a key that does not parse', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    await expect(loadSigningKeys({ jwks: [await exportJWK(publicKey)] }, '.')).rejects.toThrow(/private key is required/);
    await expect(loadSigningKeys({ jwks: [{ kty: 'oct', k: 'c2VjcmV0', d: 'x' }] }, '.')).rejects.toThrow(KeyConfigError);
    await expect(loadSigningKeys({ jwks: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', d: 'AA' }] }, '.')).rejects.toThrow(/not a usable ES256 key/);
  });

  it('names the file when a JWKS file is missing', async () => {
    await expect(loadSigningKeys({ jwksFile: 'missing.json' }, '/nowhere')).rejects.toThrow(/keys.jwksFile \/nowhere\/missing.json: ENOENT/);
  });
});

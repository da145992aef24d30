import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { configValidator } from '../../config/ajv.js';
import { deepFreeze } from '../../config/freeze.js';
import { silentLogger } from '../../observability/logger.js';
import { MemoryStateStore } from '../../state/memory.js';
import { createIntrospectionAuthenticator, IntrospectionMethodSchema, phantomPublicJwks, type IntrospectionMethodConfig } from './index.js';
import { createPhantomSigner } from './phantom.js';

const base = { endpoint: 'http://127.0.0.1:9/introspect', clientId: 'gw', clientSecret: 's3cret' };

function compile(raw: Record<string, unknown>): IntrospectionMethodConfig {
  const config = structuredClone({ ...base, ...raw });
  const validate = configValidator(IntrospectionMethodSchema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return deepFreeze(config) as IntrospectionMethodConfig;
}

const deps = () => {
  const state = new MemoryStateStore({ maxEntries: 100 });
  return { logger: silentLogger(), now: Date.now, state: () => Promise.resolve(state) };
};

describe('introspection config', () => {
  it('fills the defaults', () => {
    expect(compile({})).toMatchObject({ timeout: '3s', jwtResponse: false, forwardToken: false, cache: { positiveTtl: '60s', negativeTtl: '5s', maxEntries: 10_000 } });
  });

  it('refuses plain http off loopback, jwtResponse without issuer/jwksUri, and forwardToken with phantom', () => {
    expect(() => createIntrospectionAuthenticator(compile({ endpoint: 'http://auth.example/introspect' }), deps())).toThrow(/https/);
    expect(() => createIntrospectionAuthenticator(compile({ jwtResponse: true }), deps())).toThrow(/issuer and jwksUri/);
    const phantom = { issuer: 'i', audience: 'a', signingKey: { generate: true } };
    expect(() => createIntrospectionAuthenticator(compile({ forwardToken: true, phantom }), deps())).toThrow(/exclude/);
  });

  it('is not applicable without a Bearer credential and does no I/O at create', async () => {
    const method = createIntrospectionAuthenticator(compile({}), deps());
    const ctx = { header: (name: string) => (name === 'authorization' ? 'Basic abc' : undefined) } as never;
    expect(method.authenticate(ctx)).toEqual({ kind: 'not-applicable' });
    expect(method.calls()).toBe(0);
    method.close();
  });
});

describe('phantom signer', () => {
  it('signs with an RSA PEM key as RS256 and publishes the public key under its RFC 7638 thumbprint', async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const method = createIntrospectionAuthenticator(compile({ phantom: { issuer: 'https://gw', audience: 'https://api', signingKey: pem } }), deps());
    const signer = method.phantom!;
    expect(signer.publicJwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(signer.publicJwk).not.toHaveProperty('d');
    expect(signer.kid).toBe(await calculateJwkThumbprint(signer.publicJwk));
    expect(phantomPublicJwks().keys.map((k) => k.kid)).toContain(signer.kid);
    const now = Date.now();
    const jwt = await signer.sign({ active: true, scope: 'read', client_id: 'c1', exp: Math.floor(now / 1000) + 10, secret: 'x' }, 'c1', now);
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(phantomPublicJwks()), { issuer: 'https://gw', audience: 'https://api', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'c1', scope: 'read', client_id: 'c1' });
    expect(payload).not.toHaveProperty('secret');
    expect(payload.exp).toBe(Math.floor(now / 1000) + 10);
    method.close();
    expect(phantomPublicJwks().keys.map((k) => k.kid)).not.toContain(signer.kid);
  });

  it('takes a private JWK with its kid, and refuses a small RSA key', () => {
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const signer = createPhantomSigner({ issuer: 'i', audience: 'a', ttl: '60s', header: 'authorization', claims: ['sub'], signingKey: { ...jwk, kid: 'k1' } as never });
    expect(signer.publicJwk).toMatchObject({ kty: 'OKP', alg: 'EdDSA', kid: 'k1' });
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(() => createPhantomSigner({ issuer: 'i', audience: 'a', ttl: '60s', header: 'authorization', claims: [], signingKey: small })).toThrow(/2048/);
  });
});

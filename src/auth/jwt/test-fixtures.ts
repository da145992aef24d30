/**
 * Test support for the JWT tests (not imported by the gateway): a real JWKS server on port 0, key
 * pairs from jose, token signing and hand-built tokens for the attacks, a fake clock.
 */
import { sign as cryptoSign, KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { configValidator, describeAjvError } from '../../config/ajv.js';
import { deepFreeze } from '../../config/freeze.js';
import { silentLogger } from '../../observability/logger.js';
import { GatewayMetrics } from '../../observability/metrics.js';
import { createJwtAuthenticator, type JwtAuthenticator } from './authenticator.js';
import { JwtMethodSchema, type JwtMethodConfig } from './schema.js';

export const ISS = 'https://issuer.example';
export const AUD = 'https://api.example';
/** 2030-01-01T00:00:00Z: the fake clock's start. */
export const T0 = 1_893_456_000_000;

export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
  readonly pem: string;
}

export async function makeKey(alg: string, kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
  return { kid, alg, privateKey, jwk, pem: await exportSPKI(publicKey) };
}

export class FakeClock {
  constructor(public ms = T0) {}
  readonly now = (): number => this.ms;
  get seconds(): number {
    return Math.floor(this.ms / 1000);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A valid token for `key` at the clock's time; `claims` and `header` override the defaults. */
export function sign(key: TestKey, clock: FakeClock, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  const t = clock.seconds;
  const payload = { iss: ISS, aud: AUD, sub: 'user-1', iat: t, exp: t + 300, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

export const b64u = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** header.payload.signature from parts, for tokens no honest library would make. */
export function forge(header: object, payload: object, signature: Buffer | string = ''): string {
  const sig = typeof signature === 'string' ? signature : signature.toString('base64url');
  return `${b64u(header)}.${b64u(payload)}.${sig}`;
}

export function claimsAt(clock: FakeClock, extra: object = {}): Record<string, unknown> {
  return { iss: ISS, aud: AUD, sub: 'user-1', iat: clock.seconds, exp: clock.seconds + 300, ...extra };
}

/** Signs any header with node:crypto (RS256 or ES256), for headers jose refuses to produce (crit). */
export function signRaw(key: TestKey, header: object, payload: object): string {
  const input = `${b64u(header)}.${b64u(payload)}`;
  const options = key.alg === 'ES256' ? { key: KeyObject.from(key.privateKey), dsaEncoding: 'ieee-p1363' as const } : KeyObject.from(key.privateKey);
  return `${input}.${cryptoSign('sha256', Buffer.from(input), options).toString('base64url')}`;
}

export interface JwksServer {
  readonly url: string;
  /** Requests served on the JWKS path. */
  hits: number;
  keys: JWK[];
  /** When set, every request is answered with this status. */
  failWith: number | undefined;
  /** Served at /.well-known/openid-configuration. */
  discovery: Record<string, unknown> | undefined;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { hits: 0, keys, failWith: undefined as number | undefined, discovery: undefined as Record<string, unknown> | undefined };
  const server: Server = createServer((req, res) => {
    if (state.failWith !== undefined) {
      res.writeHead(state.failWith).end('down');
      return;
    }
    if (req.url === '/.well-known/openid-configuration' && state.discovery !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state.discovery));
      return;
    }
    state.hits += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/jwks.json`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  });
}

/** Validates (defaults filled) and freezes a raw config, as the loader does. */
export function jwtConfig(raw: object): JwtMethodConfig {
  const config = structuredClone(raw);
  const validate = configValidator(JwtMethodSchema);
  if (!validate(config)) throw new Error(`invalid jwt config: ${(validate.errors ?? []).map((e) => `${e.instancePath} ${describeAjvError(e)}`).join('; ')}`);
  return deepFreeze(config) as JwtMethodConfig;
}

export function makeJwt(raw: object, clock: FakeClock, metrics?: GatewayMetrics): JwtAuthenticator {
  return createJwtAuthenticator(jwtConfig(raw), { logger: silentLogger(), now: clock.now, metrics });
}

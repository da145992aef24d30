import { KeyObject } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import type { Logger } from 'pino';
import { request } from 'undici';
import { checkPublicKey, type VerificationKey } from './keys.js';

/** A JWKS larger than this is refused: real ones are a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;
const IMPORT_ALG: Record<string, string> = { RSA: 'RS256', 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };

export interface JwksOptions {
  /** The JWKS URI, or undefined when `discovery` gives it. */
  readonly jwksUri: string | undefined;
  /** OIDC discovery document URL (already ending in /.well-known/openid-configuration). */
  readonly discoveryUrl: string | undefined;
  /** The issuer the discovery document must name (OIDC Discovery 1.0 §4.3). */
  readonly issuer: string;
  readonly refreshIntervalMs: number;
  readonly minRefetchIntervalMs: number;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly logger: Logger;
  /** Called after every fetch attempt: metrics. */
  readonly onFetch?: (outcome: 'ok' | 'error') => void;
}

/**
 * The keys of one JWKS URI. Nothing is fetched until the first token needs a key (create does no
 * I/O). After that: a background refresh on an unref'd timer, an on-demand re-fetch when a token
 * names an unknown `kid` (at most once per `minRefetchIntervalMs`), and the last good key set kept
 * in use while the endpoint fails: a failure is logged and counted, never thrown to a request.
 */
export class JwksCache {
  /** Requests made to the JWKS URI (tests count them). */
  fetches = 0;
  failures = 0;
  private byKid = new Map<string, VerificationKey>();
  private keyless: VerificationKey[] = [];
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private jwksUri: string | undefined;
  private closed = false;
  private finishedOnce = false;

  constructor(private readonly options: JwksOptions) {
    this.jwksUri = options.jwksUri;
  }

  /**
   * True once a fetch has finished (well or not); before that every lookup must wait for `refresh`,
   * which joins the fetch in flight. (Set when the first fetch ends, not when it starts: a request
   * arriving while the first fetch runs would otherwise find no key and be refused.)
   */
  get started(): boolean {
    return this.finishedOnce;
  }

  /** Candidates for a token's `kid` (a map lookup only: RFC 7515 §4.1.4 gives `kid` no other meaning). */
  lookup(kid: string | undefined): readonly VerificationKey[] {
    if (kid === undefined) return [...this.byKid.values(), ...this.keyless];
    const key = this.byKid.get(kid);
    return key === undefined ? [] : [key];
  }

  /** Whether an unknown `kid` may trigger a fetch now. */
  mayRefetch(): boolean {
    return !this.closed && this.options.now() - this.lastAttemptAt >= this.options.minRefetchIntervalMs;
  }

  /** Fetches now (concurrent callers share one fetch). Resolves even when the fetch fails. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.inflight ??= this.fetchAndSwap().finally(() => {
      this.inflight = undefined;
      this.finishedOnce = true;
      this.schedule();
    });
    return this.inflight;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), this.options.refreshIntervalMs);
    this.timer.unref();
  }

  private async fetchAndSwap(): Promise<void> {
    this.lastAttemptAt = this.options.now();
    try {
      this.jwksUri ??= await this.discover();
      this.fetches += 1;
      const body = (await fetchJson(this.jwksUri, this.options.timeoutMs)) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error('JWKS has no "keys" array (RFC 7517 §5)');
      await this.swap(body.keys);
      this.options.onFetch?.('ok');
    } catch (error) {
      this.failures += 1;
      this.options.onFetch?.('error');
      this.options.logger.warn(
        { err: error, jwks_uri: this.jwksUri ?? this.options.discoveryUrl, cached_keys: this.byKid.size + this.keyless.length },
        'jwt: JWKS fetch failed; keeping the cached keys',
      );
    }
  }

  private async discover(): Promise<string> {
    const url = this.options.discoveryUrl!;
    const doc = (await fetchJson(url, this.options.timeoutMs)) as { issuer?: unknown; jwks_uri?: unknown };
    // OIDC Discovery 1.0 §4.3: the document's issuer must be the one we were configured with.
    if (doc.issuer !== this.options.issuer) throw new Error(`discovery issuer ${JSON.stringify(doc.issuer)} is not ${this.options.issuer}`);
    if (typeof doc.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
    assertSafeUrl(doc.jwks_uri);
    return doc.jwks_uri;
  }

  /** Imports each new key once (same kid and same material: reused); drops keys no longer listed. */
  private async swap(jwks: unknown[]): Promise<void> {
    const next = new Map<string, VerificationKey>();
    const keyless: VerificationKey[] = [];
    for (const raw of jwks.slice(0, 100)) {
      const jwk = publicJwk(raw);
      if (jwk === undefined) continue;
      const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
      const previous = kid === undefined ? undefined : this.byKid.get(kid);
      const entry = previous !== undefined && sameMaterial(previous, jwk) ? previous : await importKey(jwk, kid, this.options.logger);
      if (entry === undefined) continue;
      if (kid === undefined) keyless.push(entry);
      else if (!next.has(kid)) next.set(kid, entry);
    }
    for (const old of [...this.byKid.values(), ...this.keyless]) {
      if (![...next.values(), ...keyless].includes(old)) old.retired = true;
    }
    this.byKid = next;
    this.keyless = keyless;
  }
}

/** Only public signing keys: `oct` and private members are skipped, whatever the JWKS says. */
function publicJwk(raw: unknown): JWK | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const jwk = raw as JWK;
  if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') return undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if ('d' in jwk || 'p' in jwk || 'k' in jwk) return undefined;
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length > 256)) return undefined;
  return jwk;
}

const materialOf = (jwk: JWK) => `${jwk.kty}|${jwk.crv ?? ''}|${jwk.n ?? ''}|${jwk.e ?? ''}|${jwk.x ?? ''}|${jwk.y ?? ''}|${jwk.alg ?? ''}`;
const material = new WeakMap<VerificationKey, string>();

function sameMaterial(entry: VerificationKey, jwk: JWK): boolean {
  return material.get(entry) === materialOf(jwk);
}

async function importKey(jwk: JWK, kid: string | undefined, logger: Logger): Promise<VerificationKey | undefined> {
  try {
    const importAlg = jwk.alg ?? IMPORT_ALG[jwk.kty === 'RSA' ? 'RSA' : (jwk.crv ?? '')];
    if (importAlg === undefined) throw new Error(`no algorithm for kty ${jwk.kty} crv ${jwk.crv}`);
    const { kid: _kid, alg: _alg, use: _use, key_ops: _ops, ...material_ } = jwk;
    // jose validates the JWK; node:crypto verifies later (see keys.ts for why).
    const imported = await importJWK({ ...material_, ext: true }, importAlg);
    if (imported instanceof Uint8Array) throw new Error('not an asymmetric key');
    const key = KeyObject.from(imported);
    const problem = checkPublicKey(key);
    if (problem !== undefined) throw new Error(problem);
    const entry: VerificationKey = { kid, key, alg: jwk.alg, retired: false };
    material.set(entry, materialOf(jwk));
    return entry;
  } catch (error) {
    logger.warn({ err: error, kid }, 'jwt: JWKS key skipped');
    return undefined;
  }
}

/** https anywhere, plain http only to loopback (a key set fetched in clear text is an open door). */
export function assertSafeUrl(url: string): void {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return;
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'http:' || !loopback) throw new Error(`${url}: JWKS and discovery need https (http only on loopback)`);
}

/** GET with a timeout, no redirects, only 200, body capped at 1 MB, parsed as JSON. */
async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await request(url, {
    method: 'GET',
    headers: { accept: 'application/json' },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new Error(`${url} answered ${response.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      response.body.destroy();
      throw new Error(`${url}: body over ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (typeof body !== 'object' || body === null) throw new Error(`${url}: not a JSON object`);
  return body;
}

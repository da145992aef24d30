import { checkClaims, quote } from './claims.js';
import { compileJwtConfig, normaliseType, type CompileDeps, type CompiledIssuer, type CompiledJwtConfig } from './compile.js';
import { keyFits, verifySignature, type VerificationKey } from './keys.js';
import type { JwtAlgorithm, JwtMethodConfig } from './schema.js';

export type VerifyResult =
  | { readonly ok: true; readonly claims: Record<string, unknown>; readonly key: VerificationKey; readonly expMs: number | undefined }
  | { readonly ok: false; readonly reason: string };

/** Parsed but not yet trusted. */
interface Parsed {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
  readonly alg: JwtAlgorithm;
  readonly kid: string | undefined;
  readonly issuer: CompiledIssuer;
}

const B64U = /^[A-Za-z0-9_-]+$/;
/**
 * Headers that point at a key: a token that brings its own key (or a URL to one) is an attack on
 * verifiers that follow them (RFC 8725 §3.10: SSRF, attacker keys). We refuse such tokens outright
 * rather than ignore the header: no legitimate issuer of ours needs them, and a refusal is visible
 * in the log. `x5c` and `x5t` are ignored (never used to find a key).
 */
const KEY_POINTING_HEADERS = ['jku', 'x5u', 'jwk'] as const;

const fail = (reason: string): VerifyResult => ({ ok: false, reason });

/**
 * Verifies a compact JWS JWT (RFC 7519 §7.2, RFC 7515 §5.2) against the configured issuers.
 * Synchronous unless a JWKS must be fetched. Order: size and base64url shape, header rules
 * (alg, jku/x5u/jwk, crit, typ, kid), exact `iss` selects the issuer, its algorithm allow list,
 * then the key (by `kid`, a map lookup only), then the signature, then the claims.
 */
export class JwtVerifier {
  /** Signature verifications performed (tests and the bench read it). */
  signatureChecks = 0;
  readonly compiled: CompiledJwtConfig;

  constructor(
    config: JwtMethodConfig,
    private readonly deps: CompileDeps,
  ) {
    this.compiled = compileJwtConfig(config, deps);
  }

  verify(token: string): VerifyResult | Promise<VerifyResult> {
    const parsed = this.parse(token);
    if (!('issuer' in parsed)) return parsed;
    const keys = this.candidates(parsed);
    return Array.isArray(keys) ? this.finish(parsed, keys) : keys.then((k) => this.finish(parsed, k));
  }

  close(): void {
    for (const issuer of this.compiled.issuers.values()) issuer.jwks?.close();
  }

  private parse(token: string): Parsed | VerifyResult {
    if (token.length > this.compiled.maxTokenBytes) return fail(`token of ${token.length} bytes over the limit`);
    const segments = token.split('.');
    if (segments.length !== 3) return fail(segments.length === 5 ? 'JWE tokens are not accepted' : 'not a compact JWS (three segments)');
    const [h, p, s] = segments as [string, string, string];
    for (const segment of segments) {
      if (!isCanonicalB64u(segment)) return fail('malformed base64url segment (RFC 7515 §2)');
    }
    const header = decodeJson(h);
    if (header === undefined) return fail('header is not a JSON object');
    const claims = decodeJson(p);
    if (claims === undefined) return fail('payload is not a JSON object (RFC 7519 §7.2)');

    const alg = header.alg;
    if (typeof alg !== 'string') return fail('alg missing');
    // RFC 8725 §3.1 / §2.1: `none` in any casing is refused, whatever the allow list says.
    if (alg.toLowerCase() === 'none') return fail(`alg ${quote(alg)} refused`);
    for (const name of KEY_POINTING_HEADERS) {
      if (header[name] !== undefined) return fail(`header ${name} present: key-pointing headers are never trusted (RFC 8725 §3.10)`);
    }
    // RFC 7515 §4.1.11: we understand no extension, so any `crit` is refused; RFC 7797 `b64` too.
    if (header.crit !== undefined) return fail('crit header names extensions we do not understand (RFC 7515 §4.1.11)');
    if (header.b64 !== undefined) return fail('b64 header refused (RFC 7797)');
    const required = this.compiled.requireType;
    if (required !== undefined && (typeof header.typ !== 'string' || normaliseType(header.typ) !== required)) {
      return fail(`typ ${quote(String(header.typ))} is not ${required} (RFC 9068 §4, RFC 8725 §3.11)`);
    }
    const kid = header.kid;
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) return fail('kid is not a short string');

    // RFC 8725 §3.8: the issuer is matched exactly; it selects the keys and the allow list.
    const iss = claims.iss;
    if (typeof iss !== 'string') return fail('iss missing');
    const issuer = this.compiled.issuers.get(iss);
    if (issuer === undefined) return fail(`unknown issuer ${quote(iss)}`);
    // RFC 8725 §3.1: the allow list is enforced before any key is looked at.
    if (!issuer.algorithms.has(alg)) return fail(`alg ${quote(alg)} not allowed for issuer ${quote(iss)}`);

    const signingInput = Buffer.from(token.slice(0, h.length + 1 + p.length), 'latin1');
    const signature = Buffer.from(s, 'base64url');
    return { header, claims, signingInput, signature, alg: alg as JwtAlgorithm, kid, issuer };
  }

  /** Keys that may verify this token; waits only for a first or on-demand JWKS fetch. */
  private candidates(parsed: Parsed): VerificationKey[] | Promise<VerificationKey[]> {
    const { issuer, kid, alg } = parsed;
    if (issuer.keys !== undefined) return staticCandidates(issuer.keys, kid, alg);
    const jwks = issuer.jwks!;
    const now = (): VerificationKey[] => jwks.lookup(kid).filter((k) => keyFits(k, alg));
    if (!jwks.started) return jwks.refresh().then(now);
    const found = now();
    // An unknown kid may mean the issuer rotated keys: re-fetch, but at most once per interval.
    if (found.length === 0 && kid !== undefined && jwks.mayRefetch()) return jwks.refresh().then(now);
    return found;
  }

  private finish(parsed: Parsed, keys: VerificationKey[]): VerifyResult {
    const { kid, alg, issuer } = parsed;
    if (keys.length === 0) return fail(kid === undefined ? `no ${alg} key for issuer ${quote(issuer.issuer)}` : `no ${alg} key with kid ${quote(kid)}`);
    // Without a kid we try no more than one key: trying them all would multiply the CPU an
    // unauthenticated caller can spend.
    if (keys.length > 1) return fail(`no kid and ${keys.length} candidate ${alg} keys`);
    const key = keys[0]!;
    this.signatureChecks += 1;
    if (!verifySignature(alg, parsed.signingInput, parsed.signature, key.key)) return fail('signature invalid');
    const problem = checkClaims(parsed.claims, issuer.audiences, this.deps.now(), this.compiled.skewMs, this.compiled.requiredClaims);
    if (problem !== undefined) return fail(problem);
    const exp = parsed.claims.exp;
    return { ok: true, claims: parsed.claims, key, expMs: typeof exp === 'number' ? exp * 1000 : undefined };
  }
}

function staticCandidates(keys: readonly VerificationKey[], kid: string | undefined, alg: string): VerificationKey[] {
  const fitting = keys.filter((k) => keyFits(k, alg) || (k.key.type === 'secret' && alg.startsWith('HS')));
  if (kid === undefined) return fitting;
  const named = fitting.filter((k) => k.kid === kid);
  // A key configured without a kid accepts any kid (the HMAC secret, a single PEM key).
  return named.length > 0 ? named : fitting.filter((k) => k.kid === undefined);
}

/** base64url without padding, and canonical: the unused low bits of the last character are zero. */
function isCanonicalB64u(segment: string): boolean {
  if (segment.length === 0 || segment.length % 4 === 1 || !B64U.test(segment)) return false;
  return Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

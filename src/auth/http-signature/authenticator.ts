import type { Principal, RequestContext } from '../../core/context.js';
import type { PolicyDeps } from '../../core/policy.js';
import { parseByteSize, parseDuration } from '../../config/units.js';
import type { Credential } from '../../storage/types.js';
import { NOT_APPLICABLE, type AuthResult, type Authenticator } from '../authenticator.js';
import { bufferBody, hasBody } from '../../core/request-body.js';
import { checkContentDigest } from './digest.js';
import { KeyCache, verifySignature } from './keys.js';
import type { HttpSignatureMethodConfig } from './schema.js';
import { componentsOf, signatureBase } from './signature-base.js';
import { isInnerList, parseDictionary, type Member, type Params } from './structured.js';

export type HttpSignatureDeps = Pick<PolicyDeps, 'now' | 'store' | 'state'>;

/** Signature parameters we understand (RFC 9421 section 2.3); any other is refused rather than ignored. */
const KNOWN_PARAMS = new Set(['created', 'expires', 'nonce', 'alg', 'keyid', 'tag']);

/**
 * RFC 9421 HTTP message signatures. No Signature / Signature-Input: not applicable. Otherwise the
 * chosen label's input is parsed (section 4.1), the credential found by `keyid` (a Store credential
 * of type `hmac`), the signature base rebuilt (section 2.5) and verified (section 3.2), `created` /
 * `expires` checked, Content-Digest (RFC 9530) checked against the buffered body, and finally the
 * nonce claimed in the StateStore so a replay within maxAge + clockSkew is refused cluster-wide.
 * Credentials are looked up per request (no cache), so revocation applies at once.
 */
export function createHttpSignatureAuthenticator(config: HttpSignatureMethodConfig, deps: HttpSignatureDeps): Authenticator {
  const maxAgeMs = parseDuration(config.maxAge);
  const skewMs = parseDuration(config.clockSkew);
  const maxBody = parseByteSize(config.maxBodyBytes);
  const required = config.requiredComponents;
  const keys = new KeyCache();

  const reject = (reason: string, keyid?: string): AuthResult => ({
    kind: 'rejected',
    reason: `http-signature: ${reason}`,
    ...(keyid === undefined ? {} : { credentialId: `http-signature:${keyid}` }),
  });

  function pick(inputs: Map<string, Member>): [string, Member] | undefined {
    if (config.label !== undefined) {
      const m = inputs.get(config.label);
      return m === undefined ? undefined : [config.label, m];
    }
    return inputs.entries().next().value;
  }

  function credentialProblem(c: Credential | null, keyid: string): string | undefined {
    if (c === null) return `unknown keyid ${keyid}`;
    const now = deps.now();
    if (c.expiresAt !== null && now >= c.expiresAt.getTime()) return `key ${keyid} expired`;
    if (c.graceUntil !== null) return now >= c.graceUntil.getTime() ? `key ${keyid} rotated, grace period over` : undefined;
    if (c.revokedAt !== null && now >= c.revokedAt.getTime()) return `key ${keyid} revoked`;
    return undefined;
  }

  /** created / expires against the clock (RFC 9421 section 3.2 step 6, "application requirements"). */
  function timeProblem(params: Params): string | undefined {
    const created = params.get('created');
    const expires = params.get('expires');
    if (typeof created !== 'number') return 'created parameter missing or not an integer';
    if (expires !== undefined && typeof expires !== 'number') return 'expires parameter not an integer';
    const now = deps.now();
    if (created * 1000 > now + skewMs) return `created ${created} is in the future`;
    if (created * 1000 < now - maxAgeMs - skewMs) return `created ${created} is older than maxAge`;
    if (typeof expires === 'number' && expires * 1000 + skewMs <= now) return `signature expired at ${expires}`;
    return undefined;
  }

  async function verify(ctx: RequestContext, inputHeader: string, sigHeader: string): Promise<AuthResult> {
    let inputs: Map<string, Member>;
    let sigs: Map<string, Member>;
    try {
      inputs = parseDictionary(inputHeader);
      sigs = parseDictionary(sigHeader);
    } catch (error) {
      return reject(`malformed signature headers (${(error as Error).message})`);
    }
    const chosen = pick(inputs);
    if (chosen === undefined) return reject(config.label === undefined ? 'empty Signature-Input' : `no signature labelled ${config.label}`);
    const [label, member] = chosen;
    if (!isInnerList(member.value)) return reject(`Signature-Input ${label} is not an inner list`);
    const signature = sigs.get(label)?.value;
    if (!Buffer.isBuffer(signature)) return reject(`no byte-sequence Signature for label ${label}`);
    const params = member.value.params;
    for (const name of params.keys()) if (!KNOWN_PARAMS.has(name)) return reject(`unknown signature parameter ${name}`);
    const keyid = params.get('keyid');
    if (typeof keyid !== 'string' || keyid === '') return reject('keyid parameter missing');
    const components = componentsOf(member.value);
    if (typeof components === 'string') return reject(components, keyid);
    const body = hasBody(ctx);
    for (const c of required) {
      if (c === 'content-digest' && !body) continue;
      if (!components.includes(c)) return reject(`required component ${c} not covered`, keyid);
    }
    const nonce = params.get('nonce');
    if (nonce !== undefined && typeof nonce !== 'string') return reject('nonce parameter not a string', keyid);
    if (config.requireNonce && (nonce === undefined || nonce === '')) return reject('nonce parameter missing', keyid);

    const store = await deps.store();
    // A StoreError propagates: the policy's failureMode decides (closed: 503).
    const credential = await store.credentials.findByLookup('hmac', keyid);
    const problem = credentialProblem(credential, keyid);
    if (problem !== undefined || credential === null) return reject(problem ?? `unknown keyid ${keyid}`, keyid);
    const material = keys.get(credential.secretHash);
    if (typeof material === 'string') return reject(`key ${keyid}: ${material}`, keyid);
    const alg = params.get('alg');
    if (alg !== undefined && alg !== material.alg) return reject(`alg ${String(alg)} does not match key ${keyid} (${material.alg})`, keyid);

    const base = signatureBase(ctx, { components, params });
    if (!base.ok) return reject(base.reason, keyid);
    if (!verifySignature(material, base.base, signature)) return reject(`bad signature for keyid ${keyid}`, keyid);
    const late = timeProblem(params);
    if (late !== undefined) return reject(late, keyid);

    // RFC 9530: the digest is only as good as its check against the body the upstream will receive.
    const digest = ctx.header('content-digest');
    if (digest !== undefined && components.includes('content-digest')) {
      const problemWithBody = checkContentDigest(digest, body ? await bufferBody(ctx, maxBody, 'http-signature') : Buffer.alloc(0));
      if (problemWithBody !== undefined) return reject(problemWithBody, keyid);
    }
    if (typeof nonce === 'string' && nonce !== '') {
      const state = await deps.state();
      const fresh = await state.setIfAbsent(`sig-nonce:${keyid}:${nonce}`, '1', maxAgeMs + skewMs);
      if (!fresh) return reject(`nonce replayed for keyid ${keyid}`, keyid);
    }
    const principal: Principal = Object.freeze({
      method: 'http-signature',
      consumerId: credential.consumerId,
      subject: credential.consumerId,
      scopes: credential.scopes,
      claims: Object.freeze({ credentialId: credential.id, keyId: keyid, label }),
    });
    return { kind: 'authenticated', principal };
  }

  return {
    type: 'http-signature',
    challenge: 'Signature realm="portcullis"',
    authenticate(ctx: RequestContext): AuthResult | Promise<AuthResult> {
      const input = ctx.header(config.signatureInputHeader);
      const sig = ctx.header(config.signatureHeader);
      if (input === undefined && sig === undefined) return NOT_APPLICABLE;
      if (input === undefined || sig === undefined) return reject(`${input === undefined ? 'Signature-Input' : 'Signature'} header missing`);
      return verify(ctx, input, sig);
    },
  };
}

import type { RequestContext, Principal } from '../core/context.js';

/**
 * What one authentication method says about a request (DESIGN: phase 3). Exactly one of:
 * - `authenticated`: the credential is valid; `principal` says who is calling;
 * - `not-applicable`: this request carries no credential of mine (no Authorization: Bearer for
 *   JWT, no API-key header for api-key): the next method may try;
 * - `rejected`: a credential of mine is present and wrong (bad signature, expired, revoked). A
 *   rejection is final for `combine: any` too: a wrong credential is never retried as anonymous.
 */
export type AuthResult =
  | { readonly kind: 'authenticated'; readonly principal: Principal }
  | { readonly kind: 'not-applicable' }
  | {
      readonly kind: 'rejected';
      /** Precise, for the log only (never sent to the client). */
      readonly reason: string;
      /** The credential identifier for brute-force counting (a key id, a token hash prefix), never the secret. */
      readonly credentialId?: string;
    };

export const NOT_APPLICABLE: AuthResult = Object.freeze({ kind: 'not-applicable' });

/** One compiled authentication method of one route. Built once at load, `authenticate` per request. */
export interface Authenticator {
  /** `api-key`, `jwt`, `introspection`, `mtls`, `http-signature`, `basic`. */
  readonly type: string;
  /** The RFC 6750 / RFC 7235 challenge for a 401 when this method was expected (`Bearer realm="api"`). */
  readonly challenge: string;
  authenticate(ctx: RequestContext): AuthResult | Promise<AuthResult>;
  close?(): void | Promise<void>;
}

/**
 * Registered-claim checks (RFC 7519 §4.1) after the signature is known good. Times are NumericDate
 * seconds (RFC 7519 §2); `skewMs` is the leeway RFC 7519 §4.1.4/§4.1.5 allow ("some small leeway").
 */
export function checkClaims(
  claims: Record<string, unknown>,
  audiences: ReadonlySet<string>,
  nowMs: number,
  skewMs: number,
  required: readonly string[],
): string | undefined {
  for (const name of required) {
    if (claims[name] === undefined) return `required claim ${name} missing`;
  }
  const now = nowMs / 1000;
  const skew = skewMs / 1000;
  const { exp, nbf, iat } = claims;
  if (exp !== undefined) {
    if (!isNumericDate(exp)) return 'exp is not a NumericDate';
    // RFC 7519 §4.1.4: the current time MUST be before exp.
    if (now - skew >= exp) return `token expired at ${exp} (now ${Math.floor(now)})`;
  }
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) return 'nbf is not a NumericDate';
    // RFC 7519 §4.1.5: the current time MUST be after or equal to nbf.
    if (now + skew < nbf) return `token not valid before ${nbf} (now ${Math.floor(now)})`;
  }
  if (iat !== undefined) {
    if (!isNumericDate(iat)) return 'iat is not a NumericDate';
    // RFC 7519 §4.1.6 sets no rule; a token issued in the future is a clock problem or a forgery.
    if (iat > now + skew) return `token issued in the future (iat ${iat}, now ${Math.floor(now)})`;
  }
  return checkAudience(claims.aud, audiences);
}

/** RFC 7519 §4.1.3 and RFC 8725 §3.9: `aud` required here, a string or an array of strings, one of ours. */
function checkAudience(aud: unknown, audiences: ReadonlySet<string>): string | undefined {
  if (aud === undefined) return 'aud missing (RFC 8725 §3.9)';
  if (typeof aud === 'string') return audiences.has(aud) ? undefined : `aud ${quote(aud)} not accepted`;
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === 'string')) return 'aud is not a string or array of strings';
  return aud.some((a: string) => audiences.has(a)) ? undefined : `aud ${quote(aud.join(' '))} not accepted`;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Attacker-chosen text in a log reason: quoted (control characters escaped) and truncated. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

/** Scopes from a space-separated string (RFC 8693 §4.2, RFC 9068 §2.2.3) or an array (`scp`). */
export function readScopes(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}

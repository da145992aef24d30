/**
 * `Authorization: Basic <base64(user-id ":" password)>` (RFC 7617 section 2). The scheme is
 * case-insensitive (RFC 9110 section 11.1); the credentials are strict base64 of UTF-8 (we announce
 * `charset="UTF-8"`, RFC 7617 section 2.1). The user-id cannot contain a colon, so the first colon
 * splits; control characters are refused in both parts (section 2).
 */
export type ParsedBasic =
  | { readonly kind: 'absent' }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'credentials'; readonly username: string; readonly password: string };

const SCHEME = /^basic(?: +(.*))?$/is;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseBasicAuthorization(value: string | undefined): ParsedBasic {
  if (value === undefined) return { kind: 'absent' };
  const match = SCHEME.exec(value.trim());
  if (match === null) return { kind: 'absent' };
  const token = (match[1] ?? '').trim();
  if (token === '' || token.length > 8192 || token.length % 4 !== 0 || !BASE64.test(token)) return { kind: 'malformed', reason: 'malformed base64 credentials' };
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(token, 'base64'));
  } catch {
    return { kind: 'malformed', reason: 'credentials are not UTF-8' };
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) return { kind: 'malformed', reason: 'credentials without a colon' };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (username === '') return { kind: 'malformed', reason: 'empty username' };
  if (CONTROL.test(username) || CONTROL.test(password)) return { kind: 'malformed', reason: 'control characters in credentials' };
  return { kind: 'credentials', username, password };
}

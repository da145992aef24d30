import { describe, expect, it } from 'vitest';
import { makeContext } from '../../../test/helpers/context.js';
import { certificateBindingProblem } from './binding.js';

// The TLS cases (matching, other or unverified certificate) run on real connections in
// test/integration/mtls.test.ts; these are the claim shapes, on a plain-HTTP request.
const thumbprint = Buffer.alloc(32, 7).toString('base64url');

describe('RFC 8705 certificate binding, claim shapes', () => {
  it('lets an unbound token through unless binding is required', () => {
    expect(certificateBindingProblem(makeContext(), { sub: 'a' }, false)).toBeUndefined();
    expect(certificateBindingProblem(makeContext(), { cnf: { jkt: 'dpop-key' } }, false)).toBeUndefined();
    expect(certificateBindingProblem(makeContext(), { sub: 'a' }, true)).toMatch(/not certificate-bound .* binding is required/);
    expect(certificateBindingProblem(makeContext(), { cnf: { jkt: 'dpop-key' } }, true)).toMatch(/not certificate-bound/);
  });

  it.each([
    [[thumbprint], 'cnf claim is not a JSON object'],
    ['x5t', 'cnf claim is not a JSON object'],
    [null, 'cnf claim is not a JSON object'],
  ])('refuses a cnf claim of %j', (cnf, problem) => {
    expect(certificateBindingProblem(makeContext(), { cnf }, false)).toMatch(problem);
  });

  it.each([
    [42],
    [thumbprint.slice(1)],
    [`${thumbprint}A`],
    [Buffer.alloc(32, 7).toString('base64')],
    // 43 characters whose last one carries bits a 32-byte value cannot have.
    [`${thumbprint.slice(0, 42)}B`],
  ])('refuses x5t#S256 %j, which is no SHA-256 thumbprint', (x5t) => {
    expect(certificateBindingProblem(makeContext(), { cnf: { 'x5t#S256': x5t } }, false)).toMatch(/not a base64url SHA-256 thumbprint/);
  });

  it('refuses a well-formed bound token on a request without TLS', () => {
    expect(certificateBindingProblem(makeContext(), { cnf: { 'x5t#S256': thumbprint } }, false)).toMatch(/without a client certificate \(plain HTTP/);
  });
});

import { Type, type Static } from '@sinclair/typebox';
import { ByteSize, Duration, strictObject } from '../../config/types-common.js';

export const HttpSignatureMethodSchema = strictObject(
  {
    requiredComponents: Type.Array(Type.String({ pattern: '^(@[a-z-]+|[a-z0-9!#$%&\'*+.^_`|~-]+)$', maxLength: 64 }), {
      description:
        'Components every signature must cover (RFC 9421 section 2). `content-digest` is required only when the request has a body',
      default: ['@method', '@target-uri', 'content-digest'],
      maxItems: 32,
    }),
    maxAge: Duration('How old the `created` parameter may be (RFC 9421 section 2.3)', '5m'),
    clockSkew: Duration('Tolerance for `created` in the future and for `expires`', '30s'),
    requireNonce: Type.Boolean({ description: 'Require a `nonce` parameter, refused when seen again within maxAge + clockSkew', default: true }),
    label: Type.Optional(Type.String({ description: 'Signature label to verify; the first one in Signature-Input when absent', pattern: '^[a-z*][a-z0-9_*.-]{0,63}$' })),
    signatureInputHeader: Type.String({ description: 'Header carrying the signature parameters, lower case', default: 'signature-input', pattern: '^[a-z0-9-]{1,64}$' }),
    signatureHeader: Type.String({ description: 'Header carrying the signatures, lower case', default: 'signature', pattern: '^[a-z0-9-]{1,64}$' }),
    maxBodyBytes: ByteSize('Largest body buffered to check its Content-Digest (RFC 9530); larger bodies are refused with 413', '1mb'),
  },
  'RFC 9421 HTTP message signatures (hmac-sha256, ed25519) with keys from Store credentials of type hmac (docs/authentication.md#http-message-signatures)',
);

export type HttpSignatureMethodConfig = Static<typeof HttpSignatureMethodSchema>;

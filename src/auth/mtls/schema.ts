import { Type, type Static } from '@sinclair/typebox';
import { Duration, strictObject } from '../../config/types-common.js';

const Dn = (description: string) => Type.String({ description, minLength: 3, maxLength: 4096 });

export const MtlsMatchSchema = strictObject(
  {
    subject: Type.Optional(Dn('Subject DN, RFC 4514, most specific first: "CN=orders-service,O=Acme" (attribute names as OpenSSL prints them, values exact)')),
    san: Type.Optional(
      Type.String({
        description: 'A subject alternative name: "DNS:orders.example.com", "URI:spiffe://example.com/orders", "email:ops@example.com" or "IP:10.0.0.1"',
        pattern: '^[A-Za-z]+:.+$',
        maxLength: 2048,
      }),
    ),
    fingerprint: Type.Optional(
      Type.String({ description: 'SHA-256 fingerprint of the certificate, hex with or without colons', pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$' }),
    ),
    issuer: Type.Optional(Dn('Issuer DN the certificate must also have (useful when the listener trusts several CAs)')),
  },
  'What identifies the certificate: exactly one of subject, san, fingerprint (plus, optionally, issuer)',
);

export const MtlsMappingSchema = strictObject(
  {
    match: MtlsMatchSchema,
    consumerId: Type.Optional(Type.String({ description: 'Consumer the certificate belongs to', minLength: 1, maxLength: 200 })),
    subject: Type.Optional(Type.String({ description: 'Principal subject; the consumer id, else the certificate subject DN, when absent', minLength: 1, maxLength: 4096 })),
    scopes: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { description: 'Scopes granted to this certificate', default: [], maxItems: 100 }),
  },
  'One certificate-to-consumer mapping',
);

export const MtlsMethodSchema = strictObject(
  {
    mappings: Type.Array(MtlsMappingSchema, {
      description: 'Static mappings, checked before the Store: by fingerprint first, then subject, then SAN',
      default: [],
      maxItems: 10_000,
    }),
    store: Type.Boolean({
      description: 'Also map certificates through Store credentials of type mtls (by fingerprint, then subject; `portcullis certs add`)',
      default: false,
    }),
    cacheTtl: Duration('How long a Store lookup for one certificate is reused (found or not); changes broadcast on portcullis:credentials apply at once', '60s'),
    cacheMaxEntries: Type.Integer({ description: 'Certificates whose Store lookup is cached (LRU); 0 disables the cache', default: 10_000, minimum: 0, maximum: 1_000_000 }),
  },
  'Mutual-TLS client certificates mapped to consumers (RFC 8705 section 2; docs/authentication.md#mtls). The listener verifies the certificate (server.listeners[].tls.clientCertificates)',
);

export type MtlsMethodConfig = Static<typeof MtlsMethodSchema>;
export type MtlsMappingConfig = Static<typeof MtlsMappingSchema>;

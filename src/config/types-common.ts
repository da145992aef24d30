import { Type, type TSchema } from '@sinclair/typebox';

/** `250ms`, `10s`, `5m`, `1h`, or a number of milliseconds. Parsed once at load (units.ts). */
export const Duration = (description: string, defaultValue: string | number) =>
  Type.Union([Type.Integer({ minimum: 0, maximum: 86_400_000 }), Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$' })], {
    description: `${description} (a number of milliseconds, or a string such as "500ms", "10s", "5m")`,
    default: defaultValue,
  });

/** `512`, `64kb`, `10mb`, `1gb` (powers of 1024), or a number of bytes. */
export const ByteSize = (description: string, defaultValue: string | number) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(b|kb|mb|gb)$' })], {
    description: `${description} (a number of bytes, or a string such as "64kb", "10mb")`,
    default: defaultValue,
  });

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] as const;
export const HttpMethod = Type.Union(
  HTTP_METHODS.map((m) => Type.Literal(m)),
  { description: 'An HTTP method, upper case' },
);

/** An IPv4 or IPv6 address or CIDR block; checked precisely by net.BlockList at load. */
export const CidrString = Type.String({
  description: 'An IPv4 or IPv6 address or CIDR block, such as "10.0.0.0/8" or "2001:db8::/32"',
  minLength: 2,
  maxLength: 64,
});

export function strictObject<T extends Record<string, TSchema>>(properties: T, description: string) {
  return Type.Object(properties, { additionalProperties: false, description });
}

/** A settings section that may be left out: every field inside has a default, so `{}` is filled in. */
export function section<T extends Record<string, TSchema>>(properties: T, description: string) {
  return Type.Object(properties, { additionalProperties: false, description, default: {} });
}

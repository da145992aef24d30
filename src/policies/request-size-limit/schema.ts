import { Type, type Static } from '@sinclair/typebox';
import { ByteSize } from '../../config/types-common.js';

export const RequestSizeLimitSchema = Type.Object(
  {
    maxBodyBytes: ByteSize(
      'Largest request body accepted: a larger Content-Length is refused at once with 413, a streamed body is cut off with 413 when it passes the limit',
      '1mb',
    ),
    maxUriBytes: ByteSize('Longest request target (path and query) accepted; 414 above it', '8kb'),
    // ByteSize always carries a default; this limit is off unless set, so the union is spelt out here.
    maxHeaderBytes: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(b|kb|mb|gb)$' })], {
        description:
          'Largest total of header names and values accepted (431 above it), tighter than the listener limit; ' +
          'unset by default (a number of bytes, or a string such as "64kb", "10mb")',
      }),
    ),
  },
  { additionalProperties: false, description: 'Request body, target and header size limits' },
);

export type RequestSizeLimitConfig = Static<typeof RequestSizeLimitSchema>;

import { Type, type Static } from '@sinclair/typebox';
import { HTTP_METHODS, HttpMethod } from '../../config/types-common.js';

export const AllowedMethodsSchema = Type.Object(
  {
    // Required on purpose: a silent default would lock out methods the route was written for.
    methods: Type.Array(HttpMethod, {
      description: 'Methods the route accepts (upper case; methods are case-sensitive, RFC 9110 section 9.1); others get 405',
      minItems: 1,
      maxItems: HTTP_METHODS.length,
      uniqueItems: true,
    }),
    implicitHead: Type.Boolean({
      description: 'Accept HEAD whenever GET is accepted (RFC 9110 section 9.3.2: HEAD is GET without the body)',
      default: true,
    }),
    allowPreflight: Type.Boolean({
      description:
        'Let CORS preflights (OPTIONS with Origin and Access-Control-Request-Method) through even when OPTIONS ' +
        'is not listed, so the `cors` policy can answer them whatever the attachment order',
      default: true,
    }),
  },
  { additionalProperties: false, description: 'The HTTP methods a route accepts' },
);

export type AllowedMethodsConfig = Static<typeof AllowedMethodsSchema>;

/**
 * Every error the gateway can send to a client, in one place. `docs/errors.md` is generated from
 * this list (`portcullis errors-doc`), and a test keeps the two in step. Codes are stable API:
 * never rename one, only add. Titles are client-safe; details go to the log.
 */
export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
  /** Why a client sees it and what to do: rendered into docs/errors.md, never sent on the wire. */
  readonly description: string;
}

export const ERROR_CATALOGUE = {
  GW_BAD_REQUEST: {
    status: 400,
    title: 'Bad Request',
    description: 'The request could not be parsed as HTTP/1.1 (rejected by the parser before routing).',
  },
  GW_REQUEST_AMBIGUOUS: {
    status: 400,
    title: 'Ambiguous Request',
    description:
      'The request framing or target could be read two ways (Transfer-Encoding other than exactly `chunked`, ' +
      'Transfer-Encoding together with Content-Length, duplicate Content-Length or Host, an absolute-form ' +
      'target that disagrees with Host). Refused so that no upstream can read it differently (request smuggling).',
  },
  GW_HEADER_INVALID: {
    status: 400,
    title: 'Invalid Header',
    description: 'A header name or value holds bytes that RFC 9110 section 5 does not allow.',
  },
  GW_PATH_INVALID: {
    status: 400,
    title: 'Invalid Path',
    description:
      'The request path has invalid percent-encoding, an encoded NUL, a backslash, or an encoded slash ' +
      'where the listener refuses them (`server.paths.encodedSlashes: reject`).',
  },
  GW_ROUTE_NOT_FOUND: {
    status: 404,
    title: 'Not Found',
    description: 'No route matches the normalised path and host.',
  },
  GW_METHOD_NOT_ALLOWED: {
    status: 405,
    title: 'Method Not Allowed',
    description: 'The route exists but not for this method; the `Allow` header lists the methods it accepts.',
  },
  GW_REQUEST_TIMEOUT: {
    status: 408,
    title: 'Request Timeout',
    description: 'The client did not send its headers or body within the listener timeouts.',
  },
  GW_BODY_INVALID: {
    status: 400,
    title: 'Invalid Body',
    description:
      'A policy had to read the request body (authorization on body fields, validation) and it does not parse ' +
      'as its declared content type. The payload is never echoed back.',
  },
  GW_JSON_LIMIT_EXCEEDED: {
    status: 400,
    title: 'Invalid Body',
    description:
      'The JSON request body is nested too deeply, or has an object with too many keys, a string too long or an ' +
      'array too long (`json-limits`, or the `openapi` policy\'s `json` limits). Checked before the body is parsed.',
  },
  GW_JSON_DUPLICATE_KEY: {
    status: 400,
    title: 'Invalid Body',
    description:
      'A JSON object in the request body repeats a key. Parsers disagree on which copy wins, so the gateway and the ' +
      'upstream could read different values (a parser differential); the body is refused instead.',
  },
  GW_JSON_FORBIDDEN_KEY: {
    status: 400,
    title: 'Invalid Body',
    description:
      'The JSON request body uses `__proto__`, `constructor` or `prototype` as a key, at any depth: the keys of ' +
      'prototype-pollution attacks against code that merges JSON into objects.',
  },
  GW_REQUEST_INVALID: {
    status: 400,
    title: 'Invalid Request',
    description:
      'The request does not match the operation in the route\'s OpenAPI description (`openapi` policy): a parameter ' +
      'or body fails its schema, a required one is missing, a query parameter or body is not declared, or a ' +
      '`readOnly` property was sent. The `errors` member lists `{pointer, detail}` entries; values sent are never echoed.',
  },
  GW_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported Media Type',
    description: 'The request body\'s Content-Type is not one the OpenAPI operation declares (`openapi` policy).',
  },
  GW_REQUEST_TOO_LARGE: {
    status: 413,
    title: 'Content Too Large',
    description: 'The declared or streamed request body exceeds the `request-size-limit` for the route.',
  },
  GW_URI_TOO_LONG: {
    status: 414,
    title: 'URI Too Long',
    description: 'The request target exceeds the `request-size-limit` URI limit.',
  },
  GW_HEADERS_TOO_LARGE: {
    status: 431,
    title: 'Request Header Fields Too Large',
    description: 'The request headers exceed the listener or `request-size-limit` header limits.',
  },
  GW_AUTHN_REQUIRED: {
    status: 401,
    title: 'Unauthorized',
    description:
      'The route requires authentication and the request carried no credential any of its methods accepts. ' +
      '`WWW-Authenticate` lists the accepted schemes (RFC 9110 section 11.6.1).',
  },
  GW_AUTHN_INVALID: {
    status: 401,
    title: 'Unauthorized',
    description:
      'A credential was presented and refused (bad signature, expired, revoked, unknown key). The client is not ' +
      'told which check failed; the decision log is.',
  },
  GW_AUTHN_LOCKED: {
    status: 429,
    title: 'Too Many Requests',
    description:
      'Too many failed authentications came from this client IP or for this credential, so it is locked out for a ' +
      'while (`authenticate` `lockout`); `Retry-After` says how many seconds. Each consecutive lockout is longer. The ' +
      'client is not told which; the decision log is.',
  },
  GW_RATE_LIMITED: {
    status: 429,
    title: 'Too Many Requests',
    description:
      'A `rate-limit` or `ip-rate-limit` limit is spent for this client, consumer or key. `Retry-After` says how many ' +
      'seconds until a request would be admitted; `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) ' +
      'describe the limits, and the `violated-policies` member names the ones spent.',
  },
  GW_QUOTA_EXCEEDED: {
    status: 429,
    title: 'Too Many Requests',
    description:
      "The consumer's daily or monthly quota (`rate-limit` `quota`) is used up. `Retry-After` says how many seconds until " +
      'the period ends; `portcullis usage CONSUMER` shows the counts.',
  },
  GW_IP_DENIED: {
    status: 403,
    title: 'Forbidden',
    description: 'The client IP (resolved through trusted proxies) is denied by `ip-restriction`.',
  },
  GW_FORBIDDEN: {
    status: 403,
    title: 'Forbidden',
    description: 'A policy refused the request. The client is not told which rule; the decision log is.',
  },
  GW_AUTHZ_DENIED: {
    status: 403,
    title: 'Forbidden',
    description:
      'The `authorize` policy refused the request: no rule allowed it, a deny rule matched, the object does not ' +
      'belong to the caller, or the body writes a property the caller may not write. The answer says nothing ' +
      'about what would have been allowed; the decision log names the rule and the reason.',
  },
  GW_BODY_PROPERTY_DENIED: {
    status: 400,
    title: 'Bad Request',
    description:
      'The request body sets a property the caller may not write (`authorize` `properties.write` with ' +
      '`writeDeniedStatus: 400`), a prototype key such as `__proto__`, or is not JSON where properties must be ' +
      'checked. Which property is not said; the decision log has it.',
  },
  GW_WAF_BLOCKED: {
    status: 403,
    title: 'Forbidden',
    description:
      'The `waf` policy (OWASP Core Rule Set) found an attack in the request: its anomaly score reached the ' +
      'route threshold, or a rule denied it outright. The matched rules are in the decision log, never in the response.',
  },
  GW_WAF_BODY_INVALID: {
    status: 400,
    title: 'Bad Request',
    description:
      'The `waf` policy could not parse the request body as its Content-Type declares (JSON that is not RFC 8259 JSON, ' +
      'XML that is not XML, a broken multipart body), so the rules could not read all of it: ModSecurity\'s rules 200002 (a body its parser refused) and 200003 (multipart strict validation). ' +
      'Where in the body parsing failed is in the decision log.',
  },
  GW_CORS_DENIED: {
    status: 403,
    title: 'Forbidden',
    description: 'A CORS preflight came from an origin, or asked for a method or headers, that the route does not allow.',
  },
  GW_CSRF_DENIED: {
    status: 403,
    title: 'Forbidden',
    description:
      'A state-changing request carrying cookies came from another site (Origin, Sec-Fetch-Site or Referer not allowed), ' +
      'carried none of them where `csrf` requires one, or its double-submit token was missing or different.',
  },
  GW_WEBSOCKET_NOT_ALLOWED: {
    status: 403,
    title: 'Forbidden',
    description: 'An upgrade was requested on a route that does not allow WebSocket, or for a protocol other than WebSocket.',
  },
  GW_POLICY_UNAVAILABLE: {
    status: 503,
    title: 'Service Unavailable',
    description:
      'A policy whose `failureMode` is `closed` could not decide because a dependency failed (a store, an ' +
      'introspection endpoint). The fault is logged and counted.',
  },
  GW_RESPONSE_TOO_LARGE: {
    status: 502,
    title: 'Bad Gateway',
    description:
      'A response policy must inspect the upstream response body (filtering, validation, redaction) and the ' +
      'body exceeded its inspection limit, or used a content coding the gateway cannot decode. The response is ' +
      'not passed on unchecked.',
  },
  GW_RESPONSE_INVALID: {
    status: 502,
    title: 'Bad Gateway',
    description:
      'The upstream response does not match the schema its OpenAPI description declares for that status and ' +
      'content type (`openapi` policy, `responses.invalid: block`), so it is not passed on.',
  },
  GW_RESPONSE_BLOCKED: {
    status: 502,
    title: 'Bad Gateway',
    description:
      'The upstream response carried sensitive data (card numbers, identity numbers, keys, tokens) and the `openapi` ' +
      'policy is set to block such responses (`responses.sensitiveData.action: block`).',
  },
  GW_UPSTREAM_ERROR: {
    status: 502,
    title: 'Bad Gateway',
    description:
      'The upstream failed with a 5xx whose body carried a stack trace or other internals; the body is replaced by ' +
      'this generic problem (`openapi` `responses.hideUpstreamErrors`). The log has the upstream status.',
  },
  GW_UPSTREAM_UNAVAILABLE: {
    status: 502,
    title: 'Bad Gateway',
    description: 'The upstream refused the connection, reset it, or sent an invalid response.',
  },
  GW_UPSTREAM_TIMEOUT: {
    status: 504,
    title: 'Gateway Timeout',
    description: 'The upstream did not connect, answer, or finish within the configured upstream timeouts.',
  },
  GW_NO_HEALTHY_UPSTREAM: {
    status: 503,
    title: 'Service Unavailable',
    description: 'Every target of the upstream is marked unhealthy by the passive or active health checks.',
  },
  GW_CIRCUIT_OPEN: {
    status: 503,
    title: 'Service Unavailable',
    description:
      'Every target of the upstream that is not marked unhealthy has an open circuit breaker (recent failures), ' +
      'so the gateway answers at once without contacting it. `Retry-After` says when the first cool-down ends.',
  },
  GW_OVERLOADED: {
    status: 503,
    title: 'Service Unavailable',
    description:
      'The gateway is shedding load: its event loop lags past `server.loadShedding.maxEventLoopDelay`. Retry after ' +
      'the seconds in `Retry-After`, ideally against another instance.',
  },
  GW_CONCURRENCY_LIMIT: {
    status: 429,
    title: 'Too Many Requests',
    description:
      'The client (consumer or IP) already has as many requests in flight on this route as `concurrency-limit` ' +
      'allows. Wait for one to finish; `Retry-After` gives a hint in seconds.',
  },
  GW_CONCURRENCY_SATURATED: {
    status: 503,
    title: 'Service Unavailable',
    description:
      'The route already has as many requests in flight as `concurrency-limit` allows (`status: 503`). ' +
      '`Retry-After` gives a hint in seconds.',
  },
  GW_SHUTTING_DOWN: {
    status: 503,
    title: 'Service Unavailable',
    description: 'The gateway is draining for shutdown; retry against another instance.',
  },
  GW_CLIENT_BANNED: {
    status: 403,
    title: 'Forbidden',
    description:
      'The client IP is banned by `anomaly-detection` after abusive traffic (credential stuffing, scanning, ' +
      'enumeration); `Retry-After` says when the ban ends. Bans grow with each repeat; an operator can lift one ' +
      'with `portcullis bans lift`.',
  },
  GW_CLIENT_THROTTLED: {
    status: 429,
    title: 'Too Many Requests',
    description: 'The client IP is throttled by `anomaly-detection` after a request rate far above its own baseline; retry after `Retry-After`.',
  },
  GW_INTERNAL: {
    status: 500,
    title: 'Internal Server Error',
    description: 'An unexpected fault inside the gateway. Nothing about it is sent to the client; the log has the cause.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function renderErrorsMarkdown(): string {
  const lines = [
    '# Error codes',
    '',
    'Generated from `src/errors/catalogue.ts` by `npm run docs`; do not edit by hand.',
    '',
    'Every error the gateway produces is an RFC 9457 `application/problem+json` document with the members',
    '`type`, `title`, `status`, `detail` (4xx only, never for 5xx), `instance`, `code` and `requestId`.',
    'Clients should branch on `code`, never on `title` or `detail`.',
    '',
    '| code | status | title | when |',
    '|---|---:|---|---|',
  ];
  for (const [code, spec] of Object.entries(ERROR_CATALOGUE) as [string, ErrorSpec][]) {
    lines.push(`| \`${code}\` | ${spec.status} | ${spec.title} | ${spec.description} |`);
  }
  return lines.join('\n') + '\n';
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayError } from '../errors/index.js';
import type { ErrorCode } from '../errors/catalogue.js';
import type { RequestSpans } from '../observability/tracing/spans.js';

/** A client certificate that verified against the listener's CAs (mutual TLS; src/auth/mtls). */
export interface ClientCertificateInfo {
  /** Subject DN as an RFC 4514 string, most specific first: `CN=client,O=Acme`. */
  readonly subject: string;
  /** Issuer DN, same format. */
  readonly issuer: string;
  /** Subject alternative names, `TYPE:value`: `DNS:api.example.com`, `URI:spiffe://...`, `email:...`, `IP:10.0.0.1`. */
  readonly san: readonly string[];
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256`). */
  readonly fingerprint256: string;
  /** Serial number, upper-case hex. */
  readonly serialNumber: string;
  /** End of validity, ISO 8601. */
  readonly validTo: string;
}

/** Who is calling, once an authenticator has said so. Filled by the authentication issue's policies. */
export interface Principal {
  readonly consumerId?: string;
  readonly subject?: string;
  readonly scopes?: readonly string[];
  readonly method: string;
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The verified client certificate, when the mtls method authenticated the request. */
  readonly certificate?: ClientCertificateInfo;
  /** Groups (roles) the authenticator knows of: for API keys, the consumer's tags and `metadata.roles`. */
  readonly groups?: readonly string[];
  /** The consumer's plan when the authenticator knows it; rate-limit looks it up in the Store otherwise. */
  readonly plan?: string;
}

export type DecisionOutcome = 'allow' | 'deny' | 'reply' | 'error';

/** What the pipeline decided and which policy decided it: one line of the decision log. */
export interface Decision {
  outcome: DecisionOutcome;
  policy: string | undefined;
  code: ErrorCode | undefined;
  reason: string | undefined;
}

/** A would-be denial of a policy in `mode: monitor`: logged, not enforced. */
export interface MonitorHit {
  readonly policy: string;
  readonly code: ErrorCode;
  readonly reason: string | undefined;
}

/** An answer the gateway gives itself without calling the upstream (a CORS preflight, say). */
export interface LocalReply {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** The compiled route a request matched; the proxy fills in the concrete type. */
export interface RouteInfo {
  readonly name: string;
  readonly methods: readonly string[] | undefined;
}

/**
 * Everything a policy may read or set for one request. One instance per request, built by the
 * listener with a fixed shape (V8 keeps it monomorphic); policies store their own per-request data
 * under `state`, keyed by policy name.
 */
export class RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly startedAt: number;
  requestId = '';
  /**
   * W3C trace id (32 hex digits): the caller's when its `traceparent` was continued, else a new
   * one. In the access line and the upstream's `traceparent`; policies and audit may use it.
   */
  traceId = '';
  /** trace-flags sent upstream (bit 0: sampled, by the gateway's own draw). */
  traceFlags = 0;
  /** The caller's `tracestate`, passed on only with its trace and only when it is well formed and bounded. */
  traceState: string | undefined = undefined;
  /** This request's spans when tracing is enabled and it was sampled (src/observability/tracing). */
  spans: RequestSpans | undefined = undefined;
  /** The client as resolved through trusted proxies (X-Forwarded-For / Forwarded). */
  clientIp = '';
  /** The TCP peer. */
  remoteAddress = '';
  /** True when the TCP peer is one of `server.trustedProxies`. */
  fromTrustedProxy = false;
  method: string;
  /** The normalised path (dot segments removed, percent-encoding canonical): the same for routing, policies and upstream. */
  path = '/';
  /** The raw query string without `?`, or '' */
  query = '';
  /** Lower-case host without port. */
  host = '';
  protocol: 'http' | 'https' = 'http';
  route: RouteInfo | undefined = undefined;
  params: Record<string, string | undefined> = {};
  principal: Principal | undefined = undefined;
  decision: Decision = { outcome: 'allow', policy: undefined, code: undefined, reason: undefined };
  monitorHits: MonitorHit[] | undefined = undefined;
  reply: LocalReply | undefined = undefined;
  error: GatewayError | undefined = undefined;
  /**
   * Headers policies set on the upstream request (identity headers, say). Incoming copies of every
   * name here are removed; a `null` value removes without adding, so a client cannot inject a
   * header the gateway owns even when the gateway has nothing to put in it.
   */
  upstreamHeaders: Record<string, string | null> | undefined = undefined;
  /** Set by `request-size-limit`: the forwarder counts a streamed body against it. */
  maxBodyBytes: number | undefined = undefined;
  /**
   * The whole request body, when a policy had to read it (http-signature checking Content-Digest).
   * Once set, `ctx.req` has been consumed: the forwarder sends this buffer instead of streaming.
   */
  body: Buffer | undefined = undefined;
  /** The body parsed as JSON by `jsonBody()` (core/request-body.ts), boxed so `undefined` means "not parsed yet". */
  parsedBody: { readonly value: unknown } | undefined = undefined;
  upstreamName: string | undefined = undefined;
  upstreamTarget: string | undefined = undefined;
  upstreamStartedAt = 0;
  upstreamLatencyMs: number | undefined = undefined;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  readonly state: Map<string, unknown> = new Map();

  constructor(req: IncomingMessage, res: ServerResponse, startedAt: number) {
    this.req = req;
    this.res = res;
    this.startedAt = startedAt;
    this.method = req.method ?? 'GET';
  }

  /** Request header by lower-case name (first value when repeated, comma-joined by Node otherwise). */
  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  /** Sets a header for the upstream request, replacing any copy the client sent; `null` only removes. */
  setUpstreamHeader(name: string, value: string | null): void {
    (this.upstreamHeaders ??= {})[name.toLowerCase()] = value;
  }

  /** Ends the request phases with a gateway-made answer; `forward` is skipped, response hooks still run. */
  respond(status: number, headers: Record<string, string> = {}, body?: string): void {
    this.reply = body === undefined ? { status, headers } : { status, headers, body };
  }

  recordMonitorHit(hit: MonitorHit): void {
    (this.monitorHits ??= []).push(hit);
  }
}

import { Type, type Static } from '@sinclair/typebox';
import { ByteSize, CidrString, Duration, HttpMethod, section, strictObject } from './types-common.js';
import { AuditConfigSchema } from '../audit/config.js';
import { MetricsConfigSchema } from '../observability/metrics-config.js';
import { StateConfigSchema } from '../state/config.js';
import { StorageConfigSchema } from '../storage/config.js';
import { TracingConfigSchema } from '../observability/tracing/config.js';

/** One PEM file or several; read at load. */
const PemFiles = (description: string) =>
  Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 32 })], { description });

/** Mutual TLS (RFC 8446 section 4.3.2, RFC 5246 section 7.4.4): see docs/authentication.md#mtls. */
const ClientCertificates = strictObject(
  {
    mode: Type.Union([Type.Literal('off'), Type.Literal('optional'), Type.Literal('required')], {
      description:
        'off: no client certificate is asked for; optional: asked for, a client without one (or with one that does not verify) still connects and routes decide with the mtls method; required: a client without a certificate that verifies against `ca` is refused during the handshake',
      default: 'off',
    }),
    ca: Type.Optional(PemFiles('PEM file(s) of the CAs that issue client certificates (needed unless mode is off); only these are trusted, never the system store')),
    crl: Type.Optional(PemFiles('PEM certificate revocation list(s) of those CAs; every client certificate is then checked against them (read at start)')),
  },
  'Client certificates (mutual TLS)',
);

const TlsListener = strictObject(
  {
    cert: Type.String({ description: 'Path to the PEM certificate chain' }),
    key: Type.String({ description: 'Path to the PEM private key', secret: true }),
    minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], {
      description: 'Lowest TLS version accepted; TLS 1.0 and 1.1 are never offered',
      default: 'TLSv1.2',
    }),
    clientCertificates: Type.Optional(ClientCertificates),
  },
  'TLS for this listener',
);

const Listener = strictObject(
  {
    name: Type.String({ description: 'Listener name, used in logs', default: 'main', pattern: '^[a-z0-9-]{1,32}$' }),
    host: Type.String({ description: 'Address to bind', default: '127.0.0.1' }),
    port: Type.Integer({ description: 'Port to bind (0 picks a free one)', minimum: 0, maximum: 65535, default: 8080 }),
    tls: Type.Optional(TlsListener),
  },
  'An HTTP or HTTPS listener',
);

const Server = section(
  {
    listeners: Type.Array(Listener, { description: 'Client-facing listeners', minItems: 1, default: [{}] }),
    workers: Type.Union([Type.Integer({ minimum: 1, maximum: 256 }), Type.Literal('auto')], {
      description: 'Worker processes (node:cluster); "auto" uses one per core',
      default: 1,
    }),
    trustedProxies: Type.Array(CidrString, {
      description: 'Peers whose X-Forwarded-For / Forwarded / X-Request-Id are believed; nobody else\'s are',
      default: [],
      maxItems: 1000,
    }),
    requestIdHeader: Type.String({
      description: 'Header carrying the request id, taken from trusted proxies and passed upstream',
      default: 'x-request-id',
      pattern: '^[a-z0-9-]{1,64}$',
    }),
    timeouts: section(
      {
        headers: Duration('Time a client has to send its request headers', '10s'),
        request: Duration('Time a client has to send its whole request', '30s'),
        keepAlive: Duration('How long an idle client connection stays open', '5s'),
        shutdown: Duration('How long SIGTERM waits for in-flight requests before closing', '10s'),
      },
      'Client-side timeouts: slow clients cannot hold the gateway',
    ),
    limits: section(
      {
        maxHeaderBytes: ByteSize('Largest request head the listener parses (431 above it)', '16kb'),
        maxConnectionsPerIp: Type.Integer({
          description:
            'Connections one client IP (the TCP peer; trusted proxies exempt) may hold open at once, over all listeners ' +
            'of a process; further connections are closed as they are accepted (0: no limit)',
          minimum: 0,
          maximum: 1_000_000,
          default: 0,
        }),
      },
      'Listener limits',
    ),
    loadShedding: section(
      {
        enabled: Type.Boolean({ description: 'Shed new requests with 503 GW_OVERLOADED while the event loop lags', default: false }),
        maxEventLoopDelay: Duration('Event-loop delay (p99 over a sample, or the stall a late sample reveals) above which requests are shed', '100ms'),
        sampleInterval: Duration('How often the event-loop delay is read', '250ms'),
        holdFor: Duration('Shedding lasts at least this long after the last lagging sample, so it does not flap', '1s'),
        retryAfter: Type.Integer({ description: 'Seconds sent in Retry-After with GW_OVERLOADED', minimum: 1, maximum: 3600, default: 1 }),
      },
      'Load shedding: refuse new work before latency collapses (docs/operations.md)',
    ),
    paths: section(
      {
        mergeSlashes: Type.Boolean({ description: 'Merge repeated slashes ("//admin" becomes "/admin")', default: true }),
        encodedSlashes: Type.Union([Type.Literal('reject'), Type.Literal('keep'), Type.Literal('decode')], {
          description: '%2F in a path: reject with 400, keep encoded, or decode to "/"',
          default: 'reject',
        }),
      },
      'Path normalisation, applied once: routing, policies and the upstream all see the same path',
    ),
  },
  'Client-facing server settings',
);

const UpstreamTarget = strictObject(
  {
    url: Type.String({ description: 'Target origin, http:// or https://', pattern: '^https?://' }),
    weight: Type.Integer({ description: 'Relative share of requests', minimum: 1, maximum: 1000, default: 1 }),
  },
  'One server of an upstream',
);

const Upstream = strictObject(
  {
    targets: Type.Array(UpstreamTarget, { minItems: 1, maxItems: 256, description: 'Servers of this upstream' }),
    balancing: Type.Union([Type.Literal('round-robin'), Type.Literal('least-requests')], {
      description: 'How a target is chosen',
      default: 'round-robin',
    }),
    connections: Type.Integer({ description: 'Keep-alive connections per target', minimum: 1, maximum: 10_000, default: 128 }),
    timeouts: section(
      {
        connect: Duration('Time to establish a connection', '5s'),
        headers: Duration('Time from sending the request to the response head', '30s'),
        idle: Duration('Longest pause between two body chunks', '30s'),
        total: Duration('Whole exchange, 0 for none', 0),
      },
      'Upstream timeouts (504 when spent before the response starts)',
    ),
    retries: Type.Integer({
      description: 'Retries on another target, only for idempotent requests without a body that failed to connect',
      minimum: 0,
      maximum: 5,
      default: 1,
    }),
    healthChecks: section(
      {
        passive: section(
          {
            failures: Type.Integer({ description: 'Consecutive failures that mark a target down (0 disables)', minimum: 0, default: 3 }),
            cooldown: Duration('How long a target stays down after passive failures', '10s'),
          },
          'Mark targets down from real traffic',
        ),
        active: Type.Optional(
          strictObject(
            {
              path: Type.String({ description: 'Path probed with GET', default: '/health', pattern: '^/' }),
              interval: Duration('Time between probes', '5s'),
              timeout: Duration('Probe timeout', '2s'),
              healthyThreshold: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'Successes to mark up' }),
              unhealthyThreshold: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'Failures to mark down' }),
              expectStatus: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
                default: [200, 204],
                description: 'Statuses that count as healthy',
              }),
            },
            'Probe targets on a timer',
          ),
        ),
      },
      'Health checks',
    ),
    circuitBreaker: Type.Optional(
      strictObject(
        {
          consecutiveFailures: Type.Integer({
            description: 'Consecutive failures of a target that open its circuit (0 turns this rule off)',
            minimum: 0,
            maximum: 10_000,
            default: 5,
          }),
          failureRatio: Type.Number({
            description: 'Share of failures over `window` that opens the circuit, 0 to 1 (0 turns this rule off)',
            minimum: 0,
            maximum: 1,
            default: 0.5,
          }),
          window: Duration('Sliding window over which `failureRatio` is measured', '10s'),
          minimumRequests: Type.Integer({
            description: 'Results the window must hold before `failureRatio` is judged',
            minimum: 1,
            maximum: 1_000_000,
            default: 20,
          }),
          openFor: Duration('Cool-down of a freshly opened circuit; doubles on each re-open', '5s'),
          maxOpenFor: Duration('Longest cool-down, however often the circuit re-opens', '60s'),
          halfOpenRequests: Type.Integer({
            description: 'Probe requests let through at once after the cool-down; the first result closes or re-opens',
            minimum: 1,
            maximum: 1000,
            default: 1,
          }),
          failureStatuses: Type.Array(Type.Integer({ minimum: 500, maximum: 599 }), {
            description: 'Upstream statuses that count as failures (connect errors, resets and timeouts always do)',
            default: [502, 503, 504],
            uniqueItems: true,
            maxItems: 100,
          }),
        },
        'Circuit breaker per target; replaces `healthChecks.passive` for this upstream (docs/upstreams.md)',
      ),
    ),
    tls: Type.Optional(
      strictObject(
        {
          ca: Type.Optional(Type.String({ description: 'PEM file of CAs trusted for this upstream' })),
          cert: Type.Optional(Type.String({ description: 'PEM client certificate presented to the upstream' })),
          key: Type.Optional(Type.String({ description: 'PEM key of the client certificate', secret: true })),
          servername: Type.Optional(Type.String({ description: 'SNI and name to verify, when it differs from the URL host' })),
          rejectUnauthorized: Type.Boolean({ description: 'Verify the upstream certificate (never disable in production)', default: true }),
        },
        'HTTPS to the upstream',
      ),
    ),
  },
  'A named pool of servers',
);

export const PolicyAttachment = strictObject(
  {
    name: Type.String({ description: 'Policy name from the registry' }),
    enabled: Type.Boolean({ description: 'false removes a globally attached policy from this route', default: true }),
    mode: Type.Optional(
      Type.Union([Type.Literal('enforce'), Type.Literal('monitor')], {
        description: 'monitor logs would-be denials and lets the request through',
      }),
    ),
    failureMode: Type.Optional(
      Type.Union([Type.Literal('open'), Type.Literal('closed')], {
        description: 'What an infrastructure fault does: closed answers 503, open lets the request through',
      }),
    ),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The policy's own settings" })),
  },
  'A policy attached globally or to a route',
);

const Route = strictObject(
  {
    name: Type.String({ description: 'Unique route name, used in logs and metrics', pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    // Defaults to {} so a route with `openapi` may leave it out; an ordinary route without paths is refused at load.
    match: section(
      {
        paths: Type.Optional(
          Type.Array(Type.String({ pattern: '^/', maxLength: 2048 }), {
            minItems: 1,
            description: 'Exact ("/health"), template ("/users/{id}") or prefix ("/api/*": /api and everything below); required unless the route has `openapi`, whose operations give the paths',
          }),
        ),
        hosts: Type.Optional(
          Type.Array(Type.String({ pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$' }), {
            description: 'Host names ("api.example.com" or "*.example.com"); any host when absent',
          }),
        ),
        methods: Type.Optional(Type.Array(HttpMethod, { minItems: 1, description: 'Methods; every method when absent' })),
      },
      'What requests this route takes (may be left out with openapi)',
    ),
    openapi: Type.Optional(
      strictObject(
        {
          spec: Type.String({ minLength: 1, maxLength: 4096, description: 'OpenAPI 3.0 or 3.1 description (JSON or YAML), relative to the config file' }),
          basePath: Type.String({
            description: 'Prefix in front of every spec path as clients call it ("/api" when the spec says "/pets" and clients call "/api/pets")',
            default: '',
            pattern: '^(/[^{}?#]*[^/{}?#])?$',
            maxLength: 1024,
          }),
          operations: Type.Record(
            Type.String({ minLength: 1, maxLength: 256 }),
            strictObject(
              { policies: Type.Array(PolicyAttachment, { default: [], description: "Attachments for this operation's route only, over the route's own (same name: settings merged)" }) },
              'Overrides for one operation',
            ),
            { default: {}, description: 'Per-operation overrides, keyed by operationId (or "METHOD /path" for an operation without one)' },
          ),
        },
        'Generate the routes from an OpenAPI description: one route per operation (its path template under basePath, its method; HEAD where GET), named <route>.<operationId>, each forwarding to this route\'s upstream with the openapi policy attached (tune it with an openapi attachment in policies)',
      ),
    ),
    policies: Type.Array(PolicyAttachment, { default: [], description: 'Policies for this route, merged with the global ones' }),
    forward: strictObject(
      {
        upstream: Type.String({ description: 'Name of an upstream' }),
        stripPrefix: Type.Optional(Type.String({ pattern: '^/', description: 'Removed from the start of the path' })),
        addPrefix: Type.Optional(Type.String({ pattern: '^/', description: 'Put in front of the path (after stripPrefix)' })),
        preserveHost: Type.Boolean({ description: "Send the client's Host instead of the target's", default: false }),
        websocket: Type.Boolean({ description: 'Let WebSocket upgrades through', default: false }),
        websocketIdleTimeout: Duration('Close a WebSocket tunnel with no traffic either way for this long (0s: never)', '10m'),
      },
      'Where the request goes: the terminal step, exactly one per route',
    ),
  },
  'A route',
);

export const ConfigSchema = strictObject(
  {
    $schema: Type.Optional(Type.String({ description: 'Editor hint' })),
    version: Type.Literal(1, { description: 'Config format version' }),
    server: Server,
    admin: section(
        {
          enabled: Type.Boolean({ default: true, description: 'Serve /health, /ready and /metrics' }),
          host: Type.String({ default: '127.0.0.1', description: 'Admin address: keep it off the public network' }),
          port: Type.Integer({ minimum: 0, maximum: 65535, default: 9901, description: 'Admin port' }),
        },
        'Admin listener',
      ),
    logging: section(
        {
          level: Type.Union(
            ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
            { default: 'info', description: 'Log level' },
          ),
          accessLog: Type.Boolean({ default: true, description: 'One JSON line per request' }),
          destination: Type.String({ default: 'stdout', description: '"stdout", "stderr" or a file path' }),
          redact: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
            default: [],
            maxItems: 100,
            description: 'More pino paths to redact (such as "*.ssn" or "req.headers[\"x-session\"]"), on top of the built-in credential paths',
          }),
          sampling: section(
            {
              default: Type.Number({ minimum: 0, maximum: 1, default: 1, description: 'Share of allowed requests whose access line is written' }),
              routes: Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 }), {
                default: {},
                description: 'Per route name: share of allowed requests logged (0.1 keeps one in ten). Denials are always logged',
              }),
            },
            'Access-log sampling for high-volume routes; denials, errors and monitor hits are never sampled away',
          ),
        },
        'Logging',
      ),
    tracing: TracingConfigSchema,
    upstreams: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Upstream, {
      description: 'Named upstreams',
    }),
    policies: Type.Array(PolicyAttachment, {
      default: [],
      description: 'Policies attached to every route (and to unmatched requests); routes may override or disable them',
    }),
    routes: Type.Array(Route, { minItems: 1, description: 'Routes, matched by host, path and method' }),
    authorization: section(
      {
        default: Type.Union([Type.Literal('allow'), Type.Literal('deny')], {
          default: 'allow',
          description:
            'deny: a route without an authorize policy refuses every request (403), and so do requests no route matches; `portcullis validate` lists such routes',
        }),
        adminPaths: Type.Array(Type.String({ pattern: '^/', maxLength: 2048 }), {
          default: [],
          maxItems: 64,
          description:
            'Admin-like path patterns ("/admin/*"): a route that serves them must have an enforcing authorize policy whose every allow rule requires groups, or the config is refused',
        }),
      },
      'Least privilege across routes (applied at load, whatever each route attaches)',
    ),
    storage: Type.Optional(StorageConfigSchema),
    state: Type.Optional(StateConfigSchema),
    audit: Type.Optional(AuditConfigSchema),
    metrics: MetricsConfigSchema,
  },
  'Portcullis gateway configuration',
);

export type GatewayConfig = Static<typeof ConfigSchema>;
export type RouteConfig = Static<typeof Route>;
export type UpstreamConfig = Static<typeof Upstream>;
export type ListenerConfig = Static<typeof Listener>;
export type ClientCertificatesConfig = Static<typeof ClientCertificates>;
export type ServerConfig = Static<typeof Server>;
export type LoadSheddingConfig = ServerConfig['loadShedding'];
export type PolicyAttachmentConfig = Static<typeof PolicyAttachment>;

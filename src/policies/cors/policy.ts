import { GatewayError } from '../../errors/index.js';
import type { RequestContext } from '../../core/context.js';
import type { HeaderList } from '../../core/header-list.js';
import type { PolicyInstance } from '../../core/policy.js';
import type { CorsConfig } from './schema.js';

/** The origins a route admits, compiled once at load. */
interface OriginMatcher {
  any: boolean;
  allowNull: boolean;
  readonly exact: Set<string>;
  readonly patterns: RegExp[];
}

/** `scheme://authority` with nothing after it: an origin is never a URL with a path (RFC 6454 section 6.2). */
const ORIGIN_SHAPE = /^([a-z][a-z0-9+.-]*):\/\/([^/?#@\\\s]+)$/;
/** One DNS label (RFC 1035 section 2.3.1, RFC 1123 section 2.1): `*` never matches a dot, so never more than one label. */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const PLACEHOLDER = 'wildcard-label';
const STATE_KEY = 'cors';
const PREFLIGHT = 'preflight';
const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
const VARY_COVERS_ORIGIN = /(?:^|,)[ \t]*(?:origin|\*)[ \t]*(?:,|$)/i;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const quote = (value: string) => JSON.stringify(value.length > 128 ? value.slice(0, 128) + '...' : value);

/**
 * Browsers send the serialised origin: lower-case scheme and host, punycode, no default port. URL
 * gives that form for http and https; other schemes (browser extensions) are compared as written.
 */
function serialise(scheme: string, entry: string): string {
  if (scheme !== 'http' && scheme !== 'https') return entry;
  return new URL(entry).origin;
}

function compileOrigin(entry: string, credentials: boolean, m: OriginMatcher): void {
  if (entry === '*') {
    // Fetch standard, CORS check: a credentialed response with `*` is refused by browsers, and echoing
    // every origin instead would hand any site the user's session. So `*` and credentials never mix.
    if (credentials) throw new Error('"*" cannot be combined with credentials: true; list the origins');
    m.any = true;
    return;
  }
  // Sandboxed frames, file: pages and some redirects all send `Origin: null`, so it proves nothing.
  if (entry === 'null') {
    m.allowNull = true;
    return;
  }
  const lower = entry.toLowerCase();
  const shape = ORIGIN_SHAPE.exec(lower);
  if (shape === null) throw new Error('is not an origin (scheme://host[:port] with no path, query or trailing slash)');
  const scheme = shape[1]!;
  const authority = shape[2]!;
  if (!authority.includes('*')) {
    m.exact.add(serialise(scheme, lower));
    return;
  }
  if (scheme !== 'http' && scheme !== 'https') throw new Error('wildcards are only supported for http and https origins');
  if (!authority.startsWith('*.') || authority.indexOf('*', 1) !== -1) throw new Error('"*" may only be the whole leftmost label, as in https://*.example.com');
  const suffixHost = authority.slice(2).replace(/:[0-9]*$/, '');
  if (!suffixHost.includes('.')) throw new Error('a wildcard needs at least two labels after "*." (https://*.com would admit every .com site)');
  const sample = serialise(scheme, `${scheme}://${PLACEHOLDER}${authority.slice(1)}`);
  const prefix = `${scheme}://${PLACEHOLDER}`;
  // Anchored at both ends, so https://*.example.com admits neither evil-example.com nor example.com.evil.net.
  m.patterns.push(new RegExp(`^${escapeRegExp(`${scheme}://`)}${LABEL}${escapeRegExp(sample.slice(prefix.length))}$`));
}

export function compileOrigins(origins: readonly string[], credentials: boolean): OriginMatcher {
  const m: OriginMatcher = { any: false, allowNull: false, exact: new Set(), patterns: [] };
  origins.forEach((entry, i) => {
    try {
      compileOrigin(entry, credentials, m);
    } catch (error) {
      throw new Error(`cors: origins[${i}] ${quote(entry)}: ${(error as Error).message}`, { cause: error });
    }
  });
  return m;
}

function isAllowed(m: OriginMatcher, origin: string): boolean {
  if (origin === 'null') return m.allowNull;
  if (m.any || m.exact.has(origin)) return true;
  for (let i = 0; i < m.patterns.length; i++) if (m.patterns[i]!.test(origin)) return true;
  return false;
}

/** Removes every Access-Control-* header the upstream sent: on a cors route the gateway alone speaks CORS. */
function stripCorsHeaders(head: HeaderList): void {
  const e = head.entries;
  for (let i = e.length - 2; i >= 0; i -= 2) if (e[i]!.startsWith('access-control-')) e.splice(i, 2);
}

/** RFC 9110 section 12.5.5: the answer depends on Origin, so caches must key on it. Appends, never clobbers. */
function varyOnOrigin(head: HeaderList): void {
  const e = head.entries;
  for (let i = 0; i < e.length; i += 2) if (e[i] === 'vary' && VARY_COVERS_ORIGIN.test(e[i + 1]!)) return;
  head.append('vary', 'Origin');
}

function checkHeaderNames(field: string, names: readonly string[], credentials: boolean): string[] {
  const lower = names.map((n) => n.toLowerCase());
  // A `*` header wildcard never covers Authorization and means a literal "*" with credentials: list names.
  if (lower.includes('*') && (field === 'allowHeaders' || credentials)) {
    throw new Error(`cors: ${field}: "*" is not supported${field === 'allowHeaders' ? '' : ' with credentials'}; list the header names`);
  }
  return lower;
}

function denied(reason: string, detail: string): GatewayError {
  return new GatewayError('GW_CORS_DENIED', { reason: `cors: ${reason}`, detail });
}

export function createCorsPolicy(config: CorsConfig): PolicyInstance {
  const { credentials, preflightStatus } = config;
  const origins = compileOrigins(config.origins, credentials);
  const methods = new Set<string>(config.methods);
  const allowHeaders = checkHeaderNames('allowHeaders', config.allowHeaders, credentials);
  const allowHeaderSet = new Set(allowHeaders);
  const exposeHeaders = checkHeaderNames('exposeHeaders', config.exposeHeaders, credentials).join(', ');
  const methodsHeader = config.methods.join(', ');
  const allowHeadersHeader = allowHeaders.join(', ');
  const maxAgeHeader = String(config.maxAge);
  // With credentials the allowed origin is echoed (never `*`); `*` is only ever configured without them.
  const allowOrigin = (origin: string) => (origins.any ? '*' : origin);

  function firstDisallowedHeader(requested: string): string | undefined {
    for (const raw of requested.split(',')) {
      const name = raw.trim().toLowerCase();
      if (name !== '' && !allowHeaderSet.has(name)) return name;
    }
    return undefined;
  }

  function answerPreflight(ctx: RequestContext, origin: string, requestMethod: string): void {
    if (!isAllowed(origins, origin)) throw denied(`preflight origin ${quote(origin)} is not allowed`, 'The origin is not allowed.');
    // Methods are case-sensitive (RFC 9110 section 9.1); browsers upper-case only the standard six.
    if (!methods.has(requestMethod)) {
      throw denied(`preflight method ${quote(requestMethod)} is not allowed`, `The method ${requestMethod.slice(0, 32)} is not allowed.`);
    }
    const requested = ctx.header('access-control-request-headers');
    const bad = requested === undefined ? undefined : firstDisallowedHeader(requested);
    if (bad !== undefined) throw denied(`preflight header ${quote(bad)} is not allowed`, `The request header ${bad.slice(0, 64)} is not allowed.`);

    const headers: Record<string, string> = {
      'access-control-allow-origin': allowOrigin(origin),
      'access-control-allow-methods': methodsHeader,
      'access-control-max-age': maxAgeHeader,
      vary: PREFLIGHT_VARY,
    };
    if (allowHeadersHeader !== '') headers['access-control-allow-headers'] = allowHeadersHeader;
    if (credentials) headers['access-control-allow-credentials'] = 'true';
    ctx.state.set(STATE_KEY, PREFLIGHT);
    ctx.respond(preflightStatus, headers);
  }

  return {
    handle(ctx) {
      if (ctx.method !== 'OPTIONS') return;
      const origin = ctx.header('origin');
      const requestMethod = ctx.header('access-control-request-method');
      // Fetch standard: a preflight is OPTIONS with both headers; any other OPTIONS is an ordinary request.
      if (origin === undefined || requestMethod === undefined) return;
      answerPreflight(ctx, origin, requestMethod);
    },
    onResponse(ctx, head) {
      // Our own preflight answer is already complete.
      if (ctx.state.get(STATE_KEY) === PREFLIGHT) return;
      // Actual requests are never refused here: browsers enforce CORS by withholding the response
      // from scripts, so the gateway's job is to grant read access to allowed origins and no others.
      stripCorsHeaders(head);
      const origin = ctx.header('origin');
      if (origin !== undefined && isAllowed(origins, origin)) {
        head.set('access-control-allow-origin', allowOrigin(origin));
        if (credentials) head.set('access-control-allow-credentials', 'true');
        if (exposeHeaders !== '') head.set('access-control-expose-headers', exposeHeaders);
      }
      varyOnOrigin(head);
    },
  };
}

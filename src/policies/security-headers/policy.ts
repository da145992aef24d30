import type { HeaderList } from '../../core/header-list.js';
import type { PolicyInstance } from '../../core/policy.js';
import type { SecurityHeadersConfig } from './schema.js';

type Pair = readonly [name: string, value: string];

/** Browsers only admit a domain to the HSTS preload list with at least a year and every subdomain. */
const PRELOAD_MIN_MAX_AGE = 31_536_000;

function enabled(value: string | null): value is string {
  return value !== null && value !== 'off';
}

/** RFC 6797 section 6.1: `max-age` is required; `includeSubDomains` optional; `preload` is a list convention. */
function hstsValue(hsts: SecurityHeadersConfig['hsts']): string {
  if (hsts.preload && (hsts.maxAge < PRELOAD_MIN_MAX_AGE || !hsts.includeSubDomains)) {
    throw new Error(`security-headers: hsts.preload needs hsts.maxAge >= ${PRELOAD_MIN_MAX_AGE} and hsts.includeSubDomains`);
  }
  let value = `max-age=${hsts.maxAge}`;
  if (hsts.includeSubDomains) value += '; includeSubDomains';
  if (hsts.preload) value += '; preload';
  return value;
}

/** The headers every response gets, compiled once; HSTS is kept apart because it depends on the transport. */
function compileHeaders(config: SecurityHeadersConfig): Pair[] {
  const pairs: Pair[] = [];
  if (config.noSniff) pairs.push(['x-content-type-options', 'nosniff']);
  if (config.frameOptions !== 'off') pairs.push(['x-frame-options', config.frameOptions]);
  if (config.referrerPolicy !== 'off') pairs.push(['referrer-policy', config.referrerPolicy]);
  if (enabled(config.contentSecurityPolicy)) pairs.push(['content-security-policy', config.contentSecurityPolicy]);
  if (enabled(config.permissionsPolicy)) pairs.push(['permissions-policy', config.permissionsPolicy]);
  if (config.crossOriginResourcePolicy !== 'off') pairs.push(['cross-origin-resource-policy', config.crossOriginResourcePolicy]);
  return pairs;
}

export function createSecurityHeadersPolicy(config: SecurityHeadersConfig): PolicyInstance {
  const always = compileHeaders(config);
  const hsts: Pair | undefined = config.hsts.enabled ? ['strict-transport-security', hstsValue(config.hsts)] : undefined;
  // RFC 6797 section 7.2: HSTS MUST NOT be sent over plain HTTP, where an attacker could forge or strip it.
  // `alwaysSend` is for a gateway whose own listener is plain HTTP behind a TLS-terminating proxy.
  const hstsAlways = hsts !== undefined && config.hsts.alwaysSend;
  const override = config.override;
  const remove = config.removeHeaders.map((name) => name.toLowerCase());
  const noStore = config.noStoreByDefault;

  const put = override
    ? (head: HeaderList, pair: Pair) => head.set(pair[0], pair[1])
    : (head: HeaderList, pair: Pair) => head.setDefault(pair[0], pair[1]);

  return {
    onResponse(ctx, head) {
      for (let i = 0; i < always.length; i++) put(head, always[i]!);
      if (hsts !== undefined && (hstsAlways || ctx.protocol === 'https')) put(head, hsts);
      // RFC 9111 section 5.2.2.5: no-store keeps responses (often personal API data) out of every cache;
      // an upstream that chose its own caching is trusted whatever `override` says.
      if (noStore) head.setDefault('cache-control', 'no-store');
      for (let i = 0; i < remove.length; i++) head.delete(remove[i]!);
    },
  };
}

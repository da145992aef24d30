import { timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../core/context.js';
import type { PolicyInstance } from '../../core/policy.js';
import { GatewayError } from '../../errors/index.js';
import { parseCookies } from '../openapi/params.js';
import type { CsrfConfig } from './schema.js';

/** RFC 9110 section 9.2.1: safe methods do not change state, so a forged one does no harm. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

function deny(reason: string): GatewayError {
  return new GatewayError('GW_CSRF_DENIED', { reason: `csrf: ${reason}`, detail: 'The request looks like a cross-site request forgery.' });
}

/** The origin (scheme://host[:port]) of a Referer, or undefined when it is not a URL. */
function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Refuses state-changing requests that a browser sent from another site with the user's cookies
 * (OWASP CSRF Prevention Cheat Sheet: "Verifying Origin with standard headers", "Fetch Metadata",
 * "Signed double-submit cookie"). The browser sets Origin (RFC 6454 section 7) and Sec-Fetch-Site
 * (W3C Fetch Metadata) itself; script on another site cannot forge them.
 */
export function createCsrfPolicy(config: CsrfConfig): PolicyInstance {
  const allowed = new Set(config.allowedOrigins.map((o) => o.toLowerCase()));
  const cookieNames = config.cookieNames;
  const doubleSubmit = config.doubleSubmit;

  function originAllowed(ctx: RequestContext, origin: string): boolean {
    const lower = origin.toLowerCase();
    const host = ctx.header('host');
    return allowed.has(lower) || (host !== undefined && lower === `${ctx.protocol}://${host.toLowerCase()}`);
  }

  function checkSource(ctx: RequestContext): void {
    const origin = ctx.header('origin');
    if (origin !== undefined) {
      // "null" is sent from sandboxed frames, data: URLs and some redirects: never trusted.
      if (origin === 'null' || !originAllowed(ctx, origin)) throw deny('Origin not allowed');
      return;
    }
    const site = ctx.header('sec-fetch-site');
    if (site !== undefined) {
      if (site === 'same-origin' || site === 'none' || (site === 'same-site' && config.allowSameSite)) return;
      throw deny(`Sec-Fetch-Site ${site.slice(0, 20)} without an allowed Origin`);
    }
    const referer = ctx.header('referer');
    if (referer !== undefined) {
      const refererOrigin = originOf(referer);
      if (refererOrigin === undefined || !originAllowed(ctx, refererOrigin)) throw deny('Referer not allowed');
      return;
    }
    if (config.missingOrigin === 'reject') throw deny('no Origin, Sec-Fetch-Site or Referer');
  }

  return {
    handle(ctx: RequestContext): void {
      if (SAFE_METHODS.has(ctx.method)) return;
      const cookieHeader = ctx.header('cookie');
      if (cookieHeader === undefined) return; // no ambient credential: nothing to forge
      const cookies = cookieNames.length > 0 || doubleSubmit !== undefined ? parseCookies(cookieHeader) : undefined;
      if (cookieNames.length > 0 && !cookieNames.some((name) => cookies!.has(name))) return;
      checkSource(ctx);
      if (doubleSubmit === undefined) return;
      const token = cookies!.get(doubleSubmit.cookie)?.[0];
      const echoed = ctx.header(doubleSubmit.header);
      if (token === undefined || token === '' || echoed === undefined || !sameToken(token, echoed)) throw deny('double-submit token missing or different');
    },
  };
}

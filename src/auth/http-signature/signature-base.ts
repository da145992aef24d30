import type { RequestContext } from '../../core/context.js';
import { serializeBare, serializeParams, type InnerList, type Params } from './structured.js';

/** The covered components and parameters of one signature (RFC 9421 section 2.3, section 4.1). */
export interface SignatureInput {
  readonly components: readonly string[];
  readonly params: Params;
}

/** `("@method" "@target-uri");created=1;keyid="k"`: the value of the `@signature-params` line (RFC 9421 section 2.3). */
export function serializeInnerList(input: SignatureInput): string {
  return `(${input.components.map((c) => serializeBare(c)).join(' ')})${serializeParams(input.params)}`;
}

/** Component identifiers from a parsed inner list; component parameters (`;sf`, `;key`, `;req`, ...) are not supported. */
export function componentsOf(list: InnerList): string[] | string {
  const out: string[] = [];
  for (const item of list.items) {
    if (item.params.size > 0) return `component parameters are not supported (${item.value})`;
    if (item.value !== item.value.toLowerCase()) return `component ${item.value} is not lower case`;
    if (out.includes(item.value)) return `component ${item.value} covered twice`;
    out.push(item.value);
  }
  return out;
}

/** Every value of a header field, each trimmed, joined by ", " (RFC 9421 section 2.1); undefined when absent. */
function fieldValue(ctx: RequestContext, name: string): string | undefined {
  const raw = ctx.req.rawHeaders;
  let out: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) continue;
    const v = raw[i + 1]!.trim().replace(/\r\n[ \t]+/g, ' ');
    out = out === undefined ? v : `${out}, ${v}`;
  }
  return out;
}

/**
 * The request as the client sent it: the original request target (`req.url`, before the gateway's
 * path normalisation), the Host header and the listener's scheme. Behind a TLS-terminating proxy the
 * scheme is the hop's, so clients should cover `@authority`/`@path` rather than `@target-uri` there.
 */
function derived(ctx: RequestContext, name: string): string | undefined {
  const target = ctx.req.url ?? '/';
  const q = target.indexOf('?');
  const authority = (ctx.header('host') ?? '').toLowerCase();
  switch (name) {
    case '@method': // RFC 9421 section 2.2.1
      return ctx.req.method ?? ctx.method;
    case '@target-uri': // section 2.2.2
      return `${ctx.protocol}://${authority}${target}`;
    case '@authority': // section 2.2.3
      return authority;
    case '@scheme': // section 2.2.4
      return ctx.protocol;
    case '@path': // section 2.2.6
      return q < 0 ? target : target.slice(0, q);
    case '@query': // section 2.2.7: "?" alone when there is no query
      return q < 0 ? '?' : target.slice(q);
    case '@request-target': // section 2.2.5
      return target;
    default:
      return undefined;
  }
}

/**
 * The signature base (RFC 9421 section 2.5): one `"<component>": <value>` line per covered
 * component, in the order covered, then `"@signature-params": <inner list>`, joined by LF with no
 * trailing newline. A string when a component is missing or unknown (the reason to reject).
 */
export function signatureBase(ctx: RequestContext, input: SignatureInput): { ok: true; base: string } | { ok: false; reason: string } {
  const lines: string[] = [];
  for (const c of input.components) {
    if (c === '@signature-params') return { ok: false, reason: 'component @signature-params must not be covered' };
    const value = c.startsWith('@') ? derived(ctx, c) : fieldValue(ctx, c);
    if (value === undefined) return { ok: false, reason: c.startsWith('@') ? `unsupported derived component ${c}` : `covered header ${c} missing` };
    if (/[\r\n]/.test(value)) return { ok: false, reason: `component ${c} has a line break` };
    lines.push(`"${c}": ${value}`);
  }
  lines.push(`"@signature-params": ${serializeInnerList(input)}`);
  return { ok: true, base: lines.join('\n') };
}

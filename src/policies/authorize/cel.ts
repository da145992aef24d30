import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import type { RequestContext } from '../../core/context.js';
import type { Identity } from './identity.js';

/**
 * CEL (https://github.com/google/cel-spec) through @marcbachmann/cel-js: maintained, no
 * dependencies, a type checker (`Environment.check`) so a rule that names a field that does not
 * exist or compares a string with an int is refused at load, and fast enough to run per request
 * (docs/policies/authorize.md says why it was chosen over cel-js, @bufbuild/cel and Cedar).
 *
 * The two variables are typed objects: `request` and `principal` below. Their fields are read
 * through getters, so a rule that never looks at the query string never parses it.
 */
export class CelRequest {
  private queryMap: Record<string, string> | undefined;
  private timeValue: Date | undefined;

  constructor(
    private readonly ctx: RequestContext,
    private readonly now: number,
  ) {}

  get method(): string {
    return this.ctx.method;
  }
  get path(): string {
    return this.ctx.path;
  }
  get params(): Record<string, string | undefined> {
    return this.ctx.params;
  }
  /**
   * Each query parameter's value (RFC 3986 section 3.4, form-decoded). A parameter repeated with
   * different values is left out, so a rule that reads it fails (and denies) instead of checking
   * one value while the upstream uses another (HTTP parameter pollution).
   */
  get query(): Record<string, string> {
    if (this.queryMap !== undefined) return this.queryMap;
    const out = new Map<string, string | null>();
    for (const [key, value] of new URLSearchParams(this.ctx.query)) {
      const seen = out.get(key);
      out.set(key, seen === undefined || seen === value ? value : null);
    }
    const map: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [key, value] of out) if (value !== null) map[key] = value;
    return (this.queryMap = map);
  }
  /** Lower-case names; repeated headers comma-joined as Node joins them (RFC 9110 section 5.3). */
  get headers(): Record<string, string | string[] | undefined> {
    return this.ctx.req.headers;
  }
  get ip(): string {
    return this.ctx.clientIp;
  }
  get time(): Date {
    return (this.timeValue ??= new Date(this.now));
  }
}

export class CelPrincipal {
  constructor(private readonly identity: Identity) {}

  get consumer(): string {
    return this.identity.principal.consumerId ?? '';
  }
  get subject(): string {
    return this.identity.principal.subject ?? '';
  }
  get method(): string {
    return this.identity.principal.method;
  }
  get claims(): Readonly<Record<string, unknown>> {
    return this.identity.principal.claims ?? EMPTY;
  }
  get scopes(): readonly string[] {
    return this.identity.scopes;
  }
  get groups(): readonly string[] {
    return this.identity.groups;
  }
  /** Set by mTLS authentication when it ran (subject, issuer, SANs, fingerprint); empty otherwise. */
  get certificate(): Readonly<Record<string, unknown>> {
    const certificate = (this.identity.principal as { readonly certificate?: unknown }).certificate;
    return certificate !== null && typeof certificate === 'object' ? (certificate as Record<string, unknown>) : EMPTY;
  }
}

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

/** One environment for every rule: the types are fixed, only expressions vary. */
const environment = new Environment({
  unlistedVariablesAreDyn: false,
  // Rules are short; these bound what a config can make the parser and evaluator do.
  limits: { maxAstNodes: 1000, maxDepth: 32, maxListElements: 256, maxMapEntries: 256, maxCallArguments: 8 },
})
  .registerType('portcullis.Request', {
    ctor: CelRequest,
    fields: {
      method: 'string',
      path: 'string',
      params: 'map<string, string>',
      query: 'map<string, string>',
      headers: 'map<string, string>',
      ip: 'string',
      time: 'google.protobuf.Timestamp',
    },
  })
  .registerType('portcullis.Principal', {
    ctor: CelPrincipal,
    fields: {
      consumer: 'string',
      subject: 'string',
      method: 'string',
      claims: 'map<string, dyn>',
      scopes: 'list<string>',
      groups: 'list<string>',
      certificate: 'map<string, dyn>',
    },
  })
  .registerVariable('request', 'portcullis.Request')
  .registerVariable('principal', 'portcullis.Principal');

export interface CelVariables {
  readonly request: CelRequest;
  readonly principal: CelPrincipal;
}

export type CompiledCondition = (variables: CelVariables) => boolean;

/**
 * Parses and type-checks a condition once, at load. Throws with the library's message (which
 * points at the column) when the expression does not parse, does not type-check, or is not a bool.
 */
export function compileCondition(expression: string): CompiledCondition {
  const checked = environment.check(expression);
  if (!checked.valid) throw new Error(oneLine(checked.error?.message ?? 'invalid expression'));
  if (checked.type !== 'bool' && checked.type !== 'dyn') throw new Error(`must be a bool expression, this one is ${checked.type ?? 'unknown'}`);
  const evaluate: ParseResult = environment.parse(expression);
  // Only `true` allows a rule to match: a dyn that evaluates to anything else does not.
  return (variables) => evaluate(variables) === true;
}

/** The library's message with its source excerpt folded onto one line, for a one-line config issue. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .join(' | ');
}

import type { RequestContext } from '../../core/context.js';
import { parseHostileJson } from '../../core/request-body.js';
import type { CompiledOperation } from './compile.js';
import type { CompiledParam } from './compile-params.js';
import { parseCookies, parseHeaderValue, parsePathValue, parseQuery, parseQueryValue, type ParamValue } from './params.js';
import { toIssues, type ValidationIssue } from './spec-ajv.js';
import type { JsonLimits } from '../../core/json-scan.js';

/** A short, safe name for a pointer: the client's own names are echoed only when they look like identifiers. */
function safeName(name: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(name) ? name : '*';
}

function pointerOf(p: CompiledParam): string {
  return `/${p.in}/${safeName(p.name)}`;
}

function rawValue(ctx: RequestContext, p: CompiledParam, query: ReadonlyMap<string, string[]>, cookies: () => ReadonlyMap<string, string[]>, used: Set<string>, pathParams: Record<string, string | undefined>): ParamValue | undefined {
  switch (p.in) {
    case 'path': {
      const raw = pathParams[p.name];
      return raw === undefined ? undefined : parsePathValue(p, raw);
    }
    case 'query':
      return parseQueryValue(p, query, used);
    case 'header': {
      const raw = ctx.req.headers[p.name];
      if (raw === undefined) return undefined;
      return parseHeaderValue(p, Array.isArray(raw) ? raw.join(', ') : raw);
    }
    case 'cookie':
      return parseQueryValue(p, cookies(), new Set());
  }
}

/**
 * Checks path, query, header and cookie parameters against the operation. Values are parsed per
 * style/explode, then validated (and coerced) by the parameter's schema; problems are added to
 * `issues`. Query parameters the operation does not declare are problems when `rejectUnknownQuery`.
 */
export function validateParams(
  ctx: RequestContext,
  op: CompiledOperation,
  pathParams: Record<string, string | undefined>,
  rejectUnknownQuery: boolean,
  jsonLimits: JsonLimits,
  issues: ValidationIssue[],
): void {
  const query = ctx.query === '' ? EMPTY : parseQuery(ctx.query);
  let cookieMap: Map<string, string[]> | undefined;
  const cookies = () => (cookieMap ??= parseCookies(ctx.header('cookie')));
  const used = new Set<string>();
  for (const p of op.params) {
    let value = rawValue(ctx, p, query, cookies, used, pathParams);
    if (value === undefined) {
      if (p.required) issues.push({ pointer: pointerOf(p), detail: 'is required' });
      continue;
    }
    if (p.json && typeof value === 'string') {
      try {
        value = parseHostileJson(value, jsonLimits, 'openapi') as ParamValue;
      } catch {
        issues.push({ pointer: pointerOf(p), detail: 'is not valid JSON' });
        continue;
      }
    }
    if (p.validate === undefined) continue;
    const holder = { v: value };
    if (!p.validate(holder)) toIssues(pointerOf(p), p.validate.errors?.map((e) => ({ ...e, instancePath: e.instancePath.replace(/^\/v/, '') })), issues);
  }
  if (!rejectUnknownQuery) return;
  for (const name of query.keys()) {
    if (used.has(name) || op.queryNames.has(name) || op.deepObjectPrefixes.some((prefix) => name.startsWith(prefix))) continue;
    issues.push({ pointer: `/query/${safeName(name)}`, detail: 'is not a declared query parameter' });
  }
}

const EMPTY: ReadonlyMap<string, string[]> = new Map();

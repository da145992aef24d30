import type { ValidateFunction } from 'ajv';
import { resolve } from 'node:path';
import type { RequestContext } from '../../core/context.js';
import type { PolicyDeps, PolicyInstance } from '../../core/policy.js';
import { bufferBody, hasBody, jsonBody } from '../../core/request-body.js';
import { parseByteSize } from '../../config/units.js';
import { GatewayError } from '../../errors/index.js';
import { compileJsonLimits } from '../json-limits/policy.js';
import { matchMedia, pathParams, ROUTER_METHODS, type CompiledMedia, type CompiledOperation, type PathEntry } from './compile.js';
import { parseMultipart, parseUrlEncoded, type FormLimits } from './forms.js';
import { countMembers, replaceJsonBody } from './members.js';
import { createResponseGuard } from './response.js';
import type { OpenApiConfig } from './schema.js';
import { toIssues, type ValidationIssue } from './spec-ajv.js';
import { sharedCompile, sharedSpec } from './spec-cache.js';
import { validateParams } from './validate-request.js';

/** Per-request state other hooks of this policy read: the matched operation. */
export const OPENAPI_STATE = 'openapi';

const ROUTABLE = new Set<string>(ROUTER_METHODS);

function invalid(op: CompiledOperation, issues: ValidationIssue[]): GatewayError {
  return new GatewayError('GW_REQUEST_INVALID', {
    reason: `openapi: ${op.id}: ${issues.map((i) => `${i.pointer} ${i.detail}`).join('; ')}`,
    detail: 'The request does not match the API description.',
    extensions: { errors: issues },
  });
}

/**
 * Loads and compiles the spec once (a broken spec refuses the config, with file and JSON Pointer),
 * then checks each request against it: the path and method must be declared (404 / 405 otherwise,
 * the positive model), parameters and bodies must match their schemas.
 */
export function createOpenApiPolicy(config: OpenApiConfig, deps: PolicyDeps): PolicyInstance {
  const spec = sharedSpec(resolve(deps.configDir, config.spec));
  const compiled = sharedCompile(spec, {
    basePath: config.basePath,
    unknownProperties: config.unknownBodyProperties,
    validateResponses: config.responses.validate,
  });
  const { limits: jsonLimits, maxBytes: jsonMaxBytes } = compileJsonLimits(config.json);
  const forms: FormLimits = {
    maxFields: config.forms.maxFields,
    maxFiles: config.forms.maxFiles,
    maxFieldBytes: parseByteSize(config.forms.maxFieldBytes),
    maxFileBytes: parseByteSize(config.forms.maxFileBytes),
  };
  const formMaxBytes = parseByteSize(config.forms.maxBytes);
  const rejectUnknownQuery = config.unknownQueryParameters === 'reject';
  const stripping = config.unknownBodyProperties === 'remove';
  deps.logger.debug({ spec: spec.root, operations: compiled.operationCount }, 'openapi spec compiled');

  async function validateBody(ctx: RequestContext, op: CompiledOperation, media: CompiledMedia, issues: ValidationIssue[]): Promise<void> {
    if (media.kind === 'json') {
      const value = await jsonBody(ctx, jsonMaxBytes, 'openapi', jsonLimits);
      if (media.validate !== undefined) validateJson(ctx, media.validate, value, issues);
    } else if (media.kind === 'form' || media.kind === 'multipart') {
      const raw = await bufferBody(ctx, formMaxBytes, 'openapi');
      const value = media.kind === 'form' ? parseUrlEncoded(raw, forms) : await parseMultipart(raw, ctx.header('content-type')!, forms);
      if (media.validate !== undefined && !media.validate(value)) toIssues('/body', media.validate.errors, issues);
    }
    if (issues.length > 0) throw invalid(op, issues);
  }

  /**
   * With `unknownBodyProperties: remove` the validator deletes undeclared properties in place: a
   * valid body that lost some is re-serialised for the upstream. An invalid one is refused (or, in
   * monitor mode, forwarded as sent), so the parsed copy other policies read is restored to match.
   */
  function validateJson(ctx: RequestContext, validate: ValidateFunction, value: unknown, issues: ValidationIssue[]): void {
    const before = stripping ? countMembers(value) : 0;
    if (!validate(value)) {
      toIssues('/body', validate.errors, issues);
      if (stripping && countMembers(value) !== before) ctx.parsedBody = { value: JSON.parse(ctx.body!.toString('utf8')) as unknown };
    } else if (stripping && countMembers(value) !== before) replaceJsonBody(ctx, value);
  }

  return {
    handle(ctx: RequestContext): void | Promise<void> {
      const method = ctx.method;
      const found = compiled.router.find((ROUTABLE.has(method) ? method : 'GET') as 'GET', ctx.path);
      if (found === null) {
        throw new GatewayError('GW_ROUTE_NOT_FOUND', { reason: 'openapi: path not declared in the spec', detail: 'No API operation matches the request path.' });
      }
      const entry = found.store as PathEntry;
      const op = entry.operations[method] ?? (method === 'HEAD' ? entry.operations.GET : undefined);
      if (op === undefined) {
        throw new GatewayError('GW_METHOD_NOT_ALLOWED', {
          reason: `openapi: ${method} not declared for ${entry.template}`,
          detail: 'The API does not declare this method for the path.',
          headers: { allow: entry.allow },
        });
      }
      ctx.state.set(OPENAPI_STATE, op);
      const issues: ValidationIssue[] = [];
      validateParams(ctx, op, pathParams(entry, found.params), rejectUnknownQuery, jsonLimits, issues);
      const withBody = hasBody(ctx);
      if (op.body === undefined || !withBody) {
        if (op.body === undefined && withBody) issues.push({ pointer: '/body', detail: 'the operation takes no request body' });
        else if (op.body?.required === true) issues.push({ pointer: '/body', detail: 'is required' });
        if (issues.length > 0) throw invalid(op, issues);
        return;
      }
      const media = matchMedia(op.body.media, ctx.header('content-type'));
      if (media === undefined) {
        throw new GatewayError('GW_UNSUPPORTED_MEDIA_TYPE', {
          reason: `openapi: ${op.id}: content type not declared`,
          detail: 'The request content type is not one the operation accepts.',
        });
      }
      return validateBody(ctx, op, media, issues);
    },
    ...createResponseGuard(config, deps),
  };
}

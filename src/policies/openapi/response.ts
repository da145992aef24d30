import type { RequestContext } from '../../core/context.js';
import type { HeaderList } from '../../core/header-list.js';
import type { PolicyDeps, PolicyInstance, ResponseBodyRequest } from '../../core/policy.js';
import { isJsonContentType } from '../../core/request-body.js';
import { parseByteSize } from '../../config/units.js';
import { GatewayError, type ErrorCode } from '../../errors/index.js';
import { matchMedia, type CompiledOperation, type MediaMap } from './compile.js';
import type { OpenApiConfig } from './schema.js';
import { countMembers } from './members.js';
import { SensitiveScanner } from './sensitive.js';
import { toIssues, type ValidationIssue } from './spec-ajv.js';

/**
 * Marks of an error body that tells too much: stack frames of common runtimes, framework debug
 * pages and database errors. Only 5xx bodies are checked (OWASP API8, security misconfiguration).
 */
const INTERNALS = [
  /\n\s+at [^\n]+:\d+:\d+\)?/, // Node.js / V8 stack frame
  /Traceback \(most recent call last\)/, // Python
  /\n\s*at [a-z][\w$]*(\.[\w$<>]+)+\([\w$]+\.(java|kt|scala):\d+\)/, // JVM
  /Exception in thread "|java\.lang\.[A-Z]\w*(Exception|Error)/,
  /\bat System\.[\w.]+\(|   at [\w.]+\(.*\) in .*:line \d+/, // .NET
  /goroutine \d+ \[running\]:/, // Go panic
  /SQLSTATE\[|ORA-\d{5}|PG::[A-Z]\w+Error|SQLException/, // databases
  /"(stack|stackTrace|trace|exception)"\s*:/, // JSON error bodies with a stack member
  /<b>(Fatal error|Warning|Parse error)<\/b>:/, // PHP
];

function statusKeys(status: number): string[] {
  return [String(status), `${String(status).charAt(0)}XX`, 'DEFAULT'];
}

function responseMedia(op: CompiledOperation, status: number): MediaMap | undefined {
  for (const key of statusKeys(status)) {
    const media = op.responses.get(key);
    if (media !== undefined) return media;
  }
  return undefined;
}

/**
 * The response half of the `openapi` policy, on the response body hook (core/policy.ts): checks
 * JSON bodies against the schema declared for their status and content type, removes undeclared
 * and writeOnly properties, finds sensitive data, and hides upstream 5xx bodies that carry stack
 * traces. `report` settings record a monitor hit (in the access line) instead of acting.
 */
export function createResponseGuard(config: OpenApiConfig, deps: PolicyDeps): Pick<PolicyInstance, 'wantsResponseBody' | 'onResponseBody'> {
  const settings = config.responses;
  const request: ResponseBodyRequest = { maxBytes: parseByteSize(settings.maxBytes), overflow: 'block' };
  const scanner = new SensitiveScanner(settings.sensitiveData.kinds);
  const report = (ctx: RequestContext, code: ErrorCode, reason: string) => {
    ctx.recordMonitorHit({ policy: 'openapi', code, reason });
    deps.logger.warn({ request_id: ctx.requestId, route: deps.routeName, code, reason }, 'openapi response finding');
  };

  /** The body to send: `value` itself, possibly edited in place, or unchanged; `changed` when it must be re-serialised. */
  function checkSchema(ctx: RequestContext, op: CompiledOperation, value: unknown, head: HeaderList, status: number): { value: unknown; changed: boolean } {
    const media = responseMedia(op, status);
    const entry = media === undefined ? undefined : matchMedia(media, head.get('content-type'));
    if (entry === undefined) {
      const reason = `status ${status} with this content type is not declared for ${op.id}`;
      if (settings.undeclaredResponses === 'block') throw new GatewayError('GW_RESPONSE_INVALID', { reason: `openapi: ${reason}` });
      report(ctx, 'GW_RESPONSE_INVALID', reason);
      return { value, changed: false };
    }
    if (entry.validate === undefined) return { value, changed: false };
    // Validation only deletes members: a lower count afterwards means it changed (see members.ts).
    const removing = settings.undeclaredProperties === 'remove';
    const before = countMembers(value);
    const checked = removing ? value : structuredClone(value);
    if (!entry.validate(checked)) {
      const issues: ValidationIssue[] = [];
      toIssues('/body', entry.validate.errors, issues);
      const problem = `${op.id} ${status}: ${issues.map((i) => `${i.pointer} ${i.detail}`).join('; ')}`;
      if (settings.invalid === 'block') throw new GatewayError('GW_RESPONSE_INVALID', { reason: `openapi: ${problem}` });
      report(ctx, 'GW_RESPONSE_INVALID', problem);
      // In remove mode Ajv may have deleted members before it failed: what goes out is the edited value.
      return { value: checked, changed: removing && countMembers(checked) !== before };
    }
    const changed = countMembers(checked) !== before;
    if (removing) return { value: checked, changed };
    if (changed) report(ctx, 'GW_RESPONSE_INVALID', `${op.id} ${status}: undeclared or writeOnly properties passed on`);
    return { value, changed: false };
  }

  return {
    wantsResponseBody(ctx: RequestContext, head: HeaderList, status: number): ResponseBodyRequest | undefined {
      if (status >= 500 && settings.hideUpstreamErrors) return request;
      if (!isJsonContentType(head.get('content-type'))) return undefined;
      const op = ctx.state.get('openapi') as CompiledOperation | undefined;
      if (op !== undefined && settings.validate) return request;
      return scanner.enabled ? request : undefined;
    },

    onResponseBody(ctx: RequestContext, body: Buffer, head: HeaderList, status: number): Buffer {
      if (status >= 500 && settings.hideUpstreamErrors) {
        const text = body.toString('utf8');
        if (INTERNALS.some((pattern) => pattern.test(text))) {
          throw new GatewayError('GW_UPSTREAM_ERROR', { reason: `openapi: upstream ${status} body with internals replaced` });
        }
      }
      if (!isJsonContentType(head.get('content-type')) || body.length === 0) return body;
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch {
        if (settings.invalid === 'block') throw new GatewayError('GW_RESPONSE_INVALID', { reason: 'openapi: response declared as JSON does not parse' });
        report(ctx, 'GW_RESPONSE_INVALID', 'response declared as JSON does not parse');
        return body;
      }
      const op = ctx.state.get('openapi') as CompiledOperation | undefined;
      let { value: out, changed } = op !== undefined && settings.validate ? checkSchema(ctx, op, value, head, status) : { value, changed: false };
      if (scanner.enabled) {
        const action = settings.sensitiveData.action;
        const { findings, value: masked } = scanner.scan(out, action === 'mask');
        if (findings.length > 0) {
          const reason = `openapi: sensitive data in response: ${findings.map((f) => `${f.kind} at ${f.pointer || '/'}`).join(', ')}`;
          if (action === 'block') throw new GatewayError('GW_RESPONSE_BLOCKED', { reason });
          if (action === 'report') report(ctx, 'GW_RESPONSE_BLOCKED', reason);
          else {
            deps.logger.warn({ request_id: ctx.requestId, route: deps.routeName, reason }, 'openapi masked sensitive data');
            out = masked;
            changed = true;
          }
        }
      }
      return changed ? Buffer.from(JSON.stringify(out)) : body;
    },
  };
}

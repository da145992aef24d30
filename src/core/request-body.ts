import type { Readable } from 'node:stream';
import type { RequestContext } from './context.js';
import { GatewayError } from '../errors/index.js';
import { DEFAULT_JSON_LIMITS, scanJson, type JsonLimits, type JsonScanProblem } from './json-scan.js';

/**
 * The request body for policies that must read it (signatures, authorization on body fields,
 * OpenAPI validation, WAF). Bodies stream to the upstream untouched unless one of them asks: then
 * the body is read once into `ctx.body` (the forwarder sends that buffer instead of `ctx.req`) and
 * the parsed JSON, when some policy wants it, once into `ctx.parsedBody`.
 */

/** True when the request announces a body (Content-Length > 0 or Transfer-Encoding). */
export function hasBody(ctx: RequestContext): boolean {
  if (ctx.header('transfer-encoding') !== undefined) return true;
  const length = ctx.header('content-length');
  return length !== undefined && Number(length) > 0;
}

/**
 * Reads the whole request body into `ctx.body`, at most `limit` bytes (and never more than the
 * route's `request-size-limit`): past it, 413 as `request-size-limit` would answer. `who` names the
 * policy in the log reason.
 */
export async function bufferBody(ctx: RequestContext, limit: number, who: string): Promise<Buffer> {
  if (ctx.body !== undefined) return ctx.body;
  if (!hasBody(ctx)) {
    ctx.body = Buffer.alloc(0);
    return ctx.body;
  }
  const max = ctx.maxBodyBytes === undefined ? limit : Math.min(limit, ctx.maxBodyBytes);
  const declared = Number(ctx.header('content-length') ?? '0');
  const tooLarge = () => new GatewayError('GW_REQUEST_TOO_LARGE', { reason: `${who}: body over ${max} bytes`, detail: 'The request body is too large.' });
  if (declared > max) throw tooLarge();
  ctx.body = await readAll(ctx.req, max, tooLarge, who);
  return ctx.body;
}

/**
 * The stream's bytes, read with plain listeners: an async iterator over the request costs several
 * microseconds and a dozen allocations per request (measured in the openapi benchmark). A body that
 * arrived in one chunk is kept as is (no copy). Past `max`, or when the client goes away, the request
 * is destroyed, as leaving a `for await` loop early would.
 */
function readAll(req: Readable, max: number, tooLarge: () => GatewayError, who: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: GatewayError | undefined) => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      // The error listener stays (a no-op once settled): an 'error' without one would crash the process.
      if (error === undefined) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      else {
        req.destroy();
        reject(error);
      }
    };
    const unreadable = (message: string) =>
      // The client went away or sent a broken body: a denial, not a policy fault (failureMode must not forward it).
      new GatewayError('GW_BAD_REQUEST', { reason: `${who}: body unreadable (${message})`, detail: 'The request body could not be read.' });
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onClose = () => finish(unreadable('closed before the end'));
    const onError = (error: Error) => finish(unreadable(error.message));
    if (req.readableEnded) return resolve(Buffer.alloc(0));
    if (req.destroyed) return finish(unreadable('the stream was destroyed'));
    req.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onError);
  });
}

/** `application/json` and every `application/<x>+json` (RFC 6839 section 3.1), parameters ignored. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * The request body parsed as JSON, or `undefined` when the request has no body or is not declared
 * as JSON. Parsed once per request whoever asks first, so the first caller's `limits` apply (the
 * `json-limits` policy runs early in `inspect` for that reason). Hostile JSON is refused before
 * `JSON.parse` sees it (json-scan.ts): past a structure limit, a duplicate key or a
 * prototype-polluting key, a 400 that names the rule and echoes nothing of the payload.
 */
export async function jsonBody(ctx: RequestContext, limit: number, who: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): Promise<unknown> {
  if (ctx.parsedBody !== undefined) return ctx.parsedBody.value;
  if (!isJsonContentType(ctx.header('content-type')) || !hasBody(ctx)) return undefined;
  const raw = await bufferBody(ctx, limit, who);
  const value = raw.length === 0 ? undefined : parseHostileJson(raw.toString('utf8'), limits, who);
  ctx.parsedBody = { value };
  return value;
}

/** Scans, then parses: throws the GatewayError a client should see. Exported for form fields and tests. */
export function parseHostileJson(text: string, limits: JsonLimits, who: string): unknown {
  const problem = scanJson(text, limits);
  if (problem !== undefined) throw scanError(problem, who);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GatewayError('GW_BODY_INVALID', { reason: `${who}: body is not valid JSON (${(error as Error).message})`, detail: 'The request body is not valid JSON.' });
  }
}

const LIMIT_DETAIL: Readonly<Record<keyof JsonLimits, string>> = {
  maxDepth: 'The JSON body is nested too deeply.',
  maxKeys: 'A JSON object in the body has too many keys.',
  maxStringLength: 'A JSON string in the body is too long.',
  maxArrayLength: 'A JSON array in the body has too many elements.',
};

function scanError(problem: JsonScanProblem, who: string): GatewayError {
  const at = `at offset ${problem.offset}`;
  switch (problem.kind) {
    case 'limit':
      return new GatewayError('GW_JSON_LIMIT_EXCEEDED', { reason: `${who}: JSON ${problem.limit} exceeded ${at}`, detail: LIMIT_DETAIL[problem.limit] });
    case 'duplicate-key':
      return new GatewayError('GW_JSON_DUPLICATE_KEY', { reason: `${who}: duplicate JSON key ${at}`, detail: 'A JSON object in the body repeats a key.' });
    case 'forbidden-key':
      return new GatewayError('GW_JSON_FORBIDDEN_KEY', {
        reason: `${who}: __proto__, constructor or prototype key ${at}`,
        detail: 'The JSON body uses a reserved key (__proto__, constructor or prototype).',
      });
  }
}

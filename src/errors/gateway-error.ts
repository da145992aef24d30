import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

export interface GatewayErrorOptions {
  /** Client-safe explanation. Dropped for 5xx when rendered. */
  detail?: string;
  /** Extra response headers, such as `Allow`, `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
  /** The precise reason, for the log only. */
  reason?: string;
  /** Extra RFC 9457 extension members (client-safe). */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * A denial or failure the gateway answers itself. Thrown by policies and the proxy; rendered once, at
 * the edge, as problem+json (see problem.ts). Branch on `code`, never on the message.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly reason: string | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, options: GatewayErrorOptions = {}) {
    const spec = ERROR_CATALOGUE[code];
    super(options.reason ?? options.detail ?? spec.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = spec.status;
    this.title = spec.title;
    this.detail = options.detail;
    this.headers = options.headers;
    this.reason = options.reason;
    this.extensions = options.extensions;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

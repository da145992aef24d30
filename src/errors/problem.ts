import type { GatewayError } from './gateway-error.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://portcullis.dev/errors/';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  requestId?: string;
  [extension: string]: unknown;
}

/**
 * RFC 9457 problem details. `detail` is kept for 4xx only: a 5xx never tells the client anything
 * about the gateway's internals. `instance` is the request id as a URN, so a client can quote it.
 */
export function toProblem(error: GatewayError, requestId: string | undefined): ProblemDocument {
  const problem: ProblemDocument = {
    type: TYPE_BASE + error.code.toLowerCase().replaceAll('_', '-'),
    title: error.title,
    status: error.status,
    code: error.code,
  };
  if (error.status < 500) {
    if (error.detail !== undefined) problem.detail = error.detail;
    if (error.extensions !== undefined) Object.assign(problem, error.extensions, problem);
  }
  if (requestId !== undefined) {
    problem.instance = `urn:portcullis:request:${requestId}`;
    problem.requestId = requestId;
  }
  return problem;
}

export function problemBody(error: GatewayError, requestId: string | undefined): string {
  return JSON.stringify(toProblem(error, requestId));
}

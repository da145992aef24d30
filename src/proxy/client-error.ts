import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { GatewayError, problemBody, type ErrorCode } from '../errors/index.js';
import type { GatewayMetrics } from '../observability/metrics.js';

/** Node's parser error codes for requests that could be read two ways. */
const AMBIGUOUS = new Set([
  'HPE_UNEXPECTED_CONTENT_LENGTH',
  'HPE_INVALID_TRANSFER_ENCODING',
  'HPE_INVALID_CONTENT_LENGTH',
  'HPE_INVALID_CHUNK_SIZE',
]);

function codeFor(parserCode: string | undefined): ErrorCode {
  if (parserCode === 'HPE_HEADER_OVERFLOW') return 'GW_HEADERS_TOO_LARGE';
  if (parserCode === 'ERR_HTTP_REQUEST_TIMEOUT') return 'GW_REQUEST_TIMEOUT';
  if (parserCode !== undefined && AMBIGUOUS.has(parserCode)) return 'GW_REQUEST_AMBIGUOUS';
  if (parserCode === 'HPE_INVALID_HEADER_TOKEN' || parserCode === 'HPE_LF_EXPECTED' || parserCode === 'HPE_CR_EXPECTED') return 'GW_HEADER_INVALID';
  return 'GW_BAD_REQUEST';
}

/**
 * Requests Node's parser refused never reach a handler. Node would answer a bare 400; we answer
 * problem+json like everywhere else, close the connection, and log one line.
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket, logger: Logger, metrics: GatewayMetrics): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // The parser can fail on bytes after a request we already answered (a refused smuggling attempt's
  // tail): one answer per request, so just finish sending ours and close.
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (inProgress?.headersSent === true) {
    socket.end();
    return;
  }
  const gatewayError = new GatewayError(codeFor(error.code), { reason: error.code ?? error.message });
  const body = problemBody(gatewayError, undefined);
  socket.end(
    `HTTP/1.1 ${gatewayError.status} ${gatewayError.title}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `cache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
  metrics.request('*', 'UNKNOWN', gatewayError.status, 0);
  logger.info(
    { type: 'access', status: gatewayError.status, client_ip: socket.remoteAddress, decision: 'deny', code: gatewayError.code, reason: gatewayError.reason },
    'request refused by the HTTP parser',
  );
}

import { constants as cryptoConstants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { resolve } from 'node:path';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ListenerConfig, ServerConfig } from '../config/schema.js';
import { clientCertificateTlsOptions } from './client-certificates.js';
import { parseByteSize, parseDuration } from '../config/units.js';
import type { ConnectionLimiter } from './connection-limiter.js';

/**
 * TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1), forward-secret AEAD suites only for 1.2
 * (RFC 9325 section 4.2; Mozilla "intermediate"). TLS 1.3 suites are all AEAD and forward secret;
 * Node keeps its defaults for them because this list names none (RFC 8446 section 9.1).
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface ListenerHandlers {
  request(req: IncomingMessage, res: ServerResponse, protocol: 'http' | 'https'): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: 'http' | 'https'): void;
  clientError(error: Error & { code?: string }, socket: Duplex): void;
  /** A TLS handshake failed (old protocol version, no shared cipher, garbage): counted, logged at debug. */
  tlsError(error: Error & { code?: string }, socket: Duplex): void;
}

/** Client-side limits: slow or oversized clients are cut off by Node before they cost us more. */
function serverOptions(server: ServerConfig): ServerOptions {
  const headersTimeout = parseDuration(server.timeouts.headers);
  const requestTimeout = Math.max(parseDuration(server.timeouts.request), headersTimeout);
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: parseDuration(server.timeouts.keepAlive),
    // Node checks the two timeouts above on this interval (30 s by default, far too coarse).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
    maxHeaderSize: parseByteSize(server.limits.maxHeaderBytes),
    // Checked in prepare.ts instead, so the refusal is problem+json like every other.
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    insecureHTTPParser: false,
  };
}

export function createListener(listener: ListenerConfig, server: ServerConfig, configDir: string, handlers: ListenerHandlers): Server {
  const options = serverOptions(server);
  const protocol = listener.tls === undefined ? 'http' : 'https';
  const onRequest = (req: IncomingMessage, res: ServerResponse) => handlers.request(req, res, protocol);
  const srv =
    listener.tls === undefined
      ? createHttpServer(options, onRequest)
      : createHttpsServer(
          {
            ...options,
            cert: readFileSync(resolve(configDir, listener.tls.cert)),
            key: readFileSync(resolve(configDir, listener.tls.key)),
            minVersion: listener.tls.minVersion,
            maxVersion: 'TLSv1.3',
            ciphers: TLS12_CIPHERS,
            honorCipherOrder: true,
            // TLS 1.2 renegotiation costs the server a full handshake per client request (a cheap
            // DoS) and buys nothing here; TLS 1.3 removed it altogether (RFC 8446 section 4.6).
            secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
            // Mutual TLS: whether client certificates are asked for, which CAs vouch for them.
            ...clientCertificateTlsOptions(listener.tls.clientCertificates, configDir),
          },
          onRequest,
        );
  srv.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => handlers.upgrade(req, socket, head, protocol));
  srv.on('clientError', (error: Error & { code?: string }, socket: Duplex) => handlers.clientError(error, socket));
  // CONNECT asks for a tunnel, which a reverse proxy does not give: refused like a request the
  // parser refused (400 problem+json, as nginx answers), not dropped without an answer, Node's default.
  srv.on('connect', (_req: IncomingMessage, socket: Duplex) => handlers.clientError(Object.assign(new Error('CONNECT'), { code: 'CONNECT_NOT_SERVED' }), socket));
  if (protocol === 'https') {
    srv.on('tlsClientError', (error: Error & { code?: string }, socket: Duplex) => {
      handlers.tlsError(error, socket);
      socket.destroy();
    });
  }
  return srv;
}

/**
 * Closes a connection over the per-IP cap as it is accepted: before Node's HTTP parser or the TLS
 * handshake spends anything on it (hence prependListener). The client sees the connection closed.
 */
export function limitConnections(srv: Server, limiter: ConnectionLimiter, refused: (socket: Socket) => void): void {
  srv.prependListener('connection', (socket: Socket) => {
    if (limiter.admit(socket)) return;
    refused(socket);
    socket.destroy();
  });
}

export function listen(srv: Server, host: string, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => {
      srv.off('error', reject);
      const address = srv.address();
      resolvePort(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

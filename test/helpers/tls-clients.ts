import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';

/** Test TLS fixtures (test/fixtures/tls/README.md says what each is). */
export const TLS_DIR = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
export const tlsFixture = (name: string): string => `${TLS_DIR}${name}`;
export const TEST_CA = readFileSync(tlsFixture('ca.pem'));

/** A client identity: certificate and key files named `<name>.pem` / `<name>.key` in the fixtures. */
export interface ClientIdentity {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** RFC 8705 section 3.1 `x5t#S256`: base64url SHA-256 of the DER certificate. */
  readonly x5tS256: string;
  /** SHA-256 fingerprint as OpenSSL prints it (AB:CD:...). */
  readonly fingerprint256: string;
}

export function clientIdentity(name: string): ClientIdentity {
  const cert = readFileSync(tlsFixture(`${name}.pem`));
  const x509 = new X509Certificate(cert);
  return {
    cert,
    key: readFileSync(tlsFixture(`${name}.key`)),
    x5tS256: createHash('sha256').update(x509.raw).digest('base64url'),
    fingerprint256: x509.fingerprint256,
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface ClientOptions {
  readonly identity?: ClientIdentity;
  readonly headers?: Record<string, string>;
  /** Plain HTTP instead of HTTPS. */
  readonly plain?: boolean;
}

/**
 * One GET to 127.0.0.1 on a fresh connection (no agent, so no TLS session is reused between
 * identities), over HTTPS trusting the test CA unless `plain`; rejects when the handshake fails.
 */
export function fetchOnce(port: number, path: string, options: ClientOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, path, agent: false as const, headers: options.headers ?? {} };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    };
    const req = options.plain
      ? httpRequest(common, onResponse)
      : httpsRequest({ ...common, ca: TEST_CA, servername: 'localhost', ...(options.identity === undefined ? {} : { cert: options.identity.cert, key: options.identity.key }) }, onResponse);
    req.on('error', reject);
    req.end();
  });
}

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClientCertificatesConfig } from '../config/schema.js';

/** The `tls.createServer` options that ask for, and verify, client certificates. */
export interface ClientCertificateTlsOptions {
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
  ca?: Buffer[];
  crl?: Buffer[];
}

const files = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

/**
 * Maps `clientCertificates` to Node's TLS server options. Only the configured CAs are trusted for
 * client certificates (`ca` replaces Node's bundled roots, so a public CA can never vouch for a
 * client). `required` sets `rejectUnauthorized`: OpenSSL then aborts the handshake when the client
 * sends no certificate or one that does not verify (RFC 8446 section 4.4.2.4, `certificate_required`
 * / `bad_certificate`). `optional` asks for a certificate but lets every client connect; the socket
 * then says `authorized: false` and the mtls method refuses to trust what it got. With `crl`, Node
 * turns on CRL checking for the whole chain (X509_V_FLAG_CRL_CHECK | CRL_CHECK_ALL).
 */
export function clientCertificateTlsOptions(config: ClientCertificatesConfig | undefined, configDir: string): ClientCertificateTlsOptions {
  // Off: nothing added, the listener behaves exactly as without mutual TLS.
  if (config === undefined || config.mode === 'off') return {};
  const read = (file: string) => readFileSync(resolve(configDir, file));
  const crl = files(config.crl).map(read);
  return {
    requestCert: true,
    rejectUnauthorized: config.mode === 'required',
    ca: files(config.ca).map(read),
    ...(crl.length > 0 ? { crl } : {}),
  };
}

/**
 * Load-time checks the schema cannot express, as `[field, message]` pairs: a CA is needed unless the
 * mode is off, every file exists, and every CA file holds at least one parseable certificate, so a
 * wrong path or a key pasted in place of a certificate fails at load rather than at the first client.
 */
export function checkClientCertificates(config: ClientCertificatesConfig | undefined, configDir: string): [string, string][] {
  if (config === undefined) return [];
  const problems: [string, string][] = [];
  const cas = files(config.ca);
  if (config.mode !== 'off' && cas.length === 0) problems.push(['ca', `mode ${config.mode} needs ca: the CA file(s) that issue client certificates`]);
  for (const [field, list] of [['ca', cas], ['crl', files(config.crl)]] as const) {
    for (const file of list) {
      let text: string;
      try {
        text = readFileSync(resolve(configDir, file), 'latin1');
      } catch {
        problems.push([field, `file not found: ${file}`]);
        continue;
      }
      const problem = field === 'ca' ? checkCaPem(text) : text.includes('-----BEGIN X509 CRL-----') ? undefined : 'no PEM "X509 CRL" block';
      if (problem !== undefined) problems.push([field, `${file}: ${problem}`]);
    }
  }
  return problems;
}

function checkCaPem(text: string): string | undefined {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'no PEM certificate in it';
  for (const block of blocks) {
    try {
      if (!new X509Certificate(block).ca) return 'a certificate in it is not a CA (basicConstraints CA:TRUE)';
    } catch (error) {
      return `unreadable certificate (${(error as Error).message})`;
    }
  }
  return undefined;
}

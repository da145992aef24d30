import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonical, unhashed, type AuditRecord } from './record.js';

/** A checkpoint's signed bytes: the record without its hash and signature. */
function signedBytes(record: AuditRecord): Buffer {
  return Buffer.from(canonical(unhashed(record, false)));
}

/** Signs checkpoints with an Ed25519 private key (RFC 8032), loaded once at start. */
export class CheckpointSigner {
  readonly publicKey: KeyObject;

  constructor(
    private readonly privateKey: KeyObject,
    readonly keyId: string,
  ) {
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('audit signing key must be an Ed25519 private key (PEM, PKCS#8)');
    this.publicKey = createPublicKey(privateKey);
  }

  static fromFile(path: string, keyId: string): CheckpointSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(path));
    } catch (error) {
      throw new Error(`cannot read the audit signing key ${path}: ${(error as Error).message}`);
    }
    return new CheckpointSigner(key, keyId);
  }

  /** Ed25519 signs the message itself (no prehash): `sign(null, ...)`. */
  sign(record: AuditRecord): string {
    return sign(null, signedBytes(record), this.privateKey).toString('base64url');
  }
}

/** Checks a checkpoint's signature with the public key; false on any malformed input. */
export function verifyCheckpoint(record: AuditRecord, publicKey: KeyObject): boolean {
  if (typeof record.sig !== 'string') return false;
  try {
    return verify(null, signedBytes(record), publicKey, Buffer.from(record.sig, 'base64url'));
  } catch {
    return false;
  }
}

/** The public key to verify with: a PEM public key, or derived from the private key file. */
export function loadPublicKey(path: string): KeyObject {
  const pem = readFileSync(path);
  const key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an Ed25519 key`);
  return key;
}

import { describe, expect, it } from 'vitest';
import { dnKey, nodeNameToRfc4514, normaliseFingerprint, parseDn, parseSubjectAltName } from './names.js';

describe('distinguished names', () => {
  it('parses RFC 4514 strings with escapes, multi-valued RDNs and spaces around separators', () => {
    expect(parseDn('CN=orders,  OU=a\\+b + L=Berlin ,O=Acme\\, Inc,C=DE')).toEqual([['CN=orders'], ['OU=a+b', 'L=Berlin'], ['O=Acme, Inc'], ['C=DE']]);
    expect(parseDn('cn=x\\0Ay')).toEqual([['CN=x\ny']]);
    expect(parseDn('CN=caf\\C3\\A9')).toEqual([['CN=café']]);
    expect(parseDn('CN=trailing\\ ')).toEqual([['CN=trailing ']]);
  });

  it('gives a certificate name as Node prints it the same key as the RFC 4514 spelling of it', () => {
    // Node escapes a newline inside a value (\0A) and a comma (\,), so neither can forge an RDN.
    const node = 'O=Acme\nCN=evil\\0AO=Admin\\, x';
    expect(nodeNameToRfc4514(node)).toBe('CN=evil\\0AO=Admin\\, x,O=Acme');
    expect(dnKey(nodeNameToRfc4514(node))).toBe(dnKey('CN=evil\\0AO=Admin\\, x, O=Acme'));
    expect(dnKey(nodeNameToRfc4514(node))).not.toBe(dnKey('CN=evil,O=Admin\\, x,O=Acme'));
  });

  it('refuses malformed DNs', () => {
    expect(() => parseDn('CN')).toThrow(/malformed DN/);
    expect(() => parseDn('=x')).toThrow(/malformed DN/);
    expect(() => parseDn('CN=x\\')).toThrow(/dangling backslash/);
  });
});

describe('subject alternative names', () => {
  it('parses Node subjectAltName output, including JSON-quoted values that contain the separator', () => {
    const text = 'DNS:A.Example.com, DNS:"x\\u002c DNS:y.com", URI:spiffe://x/y, email:ops@x.test, IP Address:10.0.0.1, othername:<unsupported>';
    expect(parseSubjectAltName(text)).toEqual(['DNS:a.example.com', 'DNS:x, dns:y.com', 'URI:spiffe://x/y', 'email:ops@x.test', 'IP:10.0.0.1', 'othername:<unsupported>']);
    expect(parseSubjectAltName(undefined)).toEqual([]);
  });

  it('normalises fingerprints in either spelling and refuses other lengths', () => {
    const hex = 'ab'.repeat(32);
    expect(normaliseFingerprint('AB:'.repeat(31) + 'AB')).toBe(hex);
    expect(normaliseFingerprint(hex.toUpperCase())).toBe(hex);
    expect(normaliseFingerprint('ab'.repeat(20))).toBeUndefined();
  });
});

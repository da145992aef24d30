import { describe, expect, it } from 'vitest';
import { API_KEY_LENGTH, apiKeyMatches, decodeStoredHash, equalHexDigests, generateApiKey, hashApiKey, parseApiKey } from './format.js';

describe('API key format', () => {
  it('generates keys with the prefix, a public key id and a valid checksum', () => {
    const { key, keyId } = generateApiKey();
    expect(key).toMatch(/^pcl_[0-9A-Za-z]{12}_[0-9A-Za-z]{49}$/);
    expect(key).toHaveLength(API_KEY_LENGTH);
    expect(key.slice(4, 16)).toBe(keyId);
    expect(parseApiKey(key)).toEqual({ ok: true, keyId });
  });

  it('never repeats a key or a key id over many draws', () => {
    const keys = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const { key, keyId } = generateApiKey();
      keys.add(key);
      ids.add(keyId);
    }
    expect(keys.size).toBe(2000);
    expect(ids.size).toBe(2000);
  });

  it('draws secret characters without modulo bias (every base62 character appears, roughly evenly)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 500; i++) for (const ch of generateApiKey().key.slice(17, 60)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    const expected = (500 * 43) / 62;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.35);
  });

  it('refuses a mistyped key by its checksum, without a lookup', () => {
    const { key } = generateApiKey();
    const i = 30;
    const typo = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    expect(parseApiKey(typo)).toEqual({ ok: false, reason: 'checksum' });
  });

  it.each([
    ['empty', ''],
    ['another vendor', 'sk_live_' + 'a'.repeat(60)],
    ['wrong length', 'pcl_abc_def'],
    ['bad characters', 'pcl_' + '!'.repeat(12) + '_' + 'a'.repeat(49)],
  ])('refuses %s as a format error', (_name, candidate) => {
    expect(parseApiKey(candidate)).toEqual({ ok: false, reason: 'format' });
  });

  it('stores only a hash, and compares in constant time', () => {
    const { key } = generateApiKey();
    const stored = hashApiKey(key);
    expect(stored).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(stored).not.toContain(key.slice(17, 60));
    expect(apiKeyMatches(key, stored)).toBe(true);
    expect(apiKeyMatches(generateApiKey().key, stored)).toBe(false);
  });

  it('with a pepper, a stolen hash cannot be checked without the pepper', () => {
    const { key } = generateApiKey();
    const pepper = Buffer.from('server-side-pepper-32-bytes-long!');
    const stored = hashApiKey(key, pepper);
    expect(stored).toMatch(/^hmac-sha256:/);
    expect(apiKeyMatches(key, stored, pepper)).toBe(true);
    expect(apiKeyMatches(key, stored)).toBe(false);
    expect(apiKeyMatches(key, stored, Buffer.from('another-pepper'))).toBe(false);
  });

  it('compares against a pre-decoded hash exactly as against the stored string', () => {
    const { key } = generateApiKey();
    const pepper = Buffer.from('server-side-pepper-32-bytes-long!');
    const plain = decodeStoredHash(hashApiKey(key))!;
    const peppered = decodeStoredHash(hashApiKey(key, pepper))!;
    expect(apiKeyMatches(key, plain)).toBe(true);
    expect(apiKeyMatches(key, peppered, pepper)).toBe(true);
    // A peppered hash never matches without the pepper, nor a plain one with it.
    expect(apiKeyMatches(key, peppered)).toBe(false);
    expect(apiKeyMatches(key, plain, pepper)).toBe(false);
    expect(apiKeyMatches(generateApiKey().key, plain)).toBe(false);
  });

  it('equalHexDigests finds a difference at any position, and refuses different lengths', () => {
    const digest = hashApiKey(generateApiKey().key).slice('sha256:'.length);
    expect(equalHexDigests(digest, digest.slice())).toBe(true);
    for (let i = 0; i < digest.length; i++) {
      const flipped = digest.slice(0, i) + (digest[i] === '0' ? '1' : '0') + digest.slice(i + 1);
      expect(equalHexDigests(digest, flipped), `difference at ${i}`).toBe(false);
    }
    expect(equalHexDigests(digest, digest.slice(0, -1))).toBe(false);
    expect(equalHexDigests('', digest)).toBe(false);
  });

  it.each([
    ['an unknown algorithm', `md5:${'0'.repeat(32)}`],
    ['a short digest', `sha256:${'a'.repeat(63)}`],
    ['upper-case hex', `sha256:${'A'.repeat(64)}`],
    ['the key itself', 'pcl_abc'],
    ['nothing', ''],
  ])('a stored value that is not our hash (%s) matches no key', (_name, stored) => {
    expect(decodeStoredHash(stored)).toBeUndefined();
    expect(apiKeyMatches(generateApiKey().key, stored)).toBe(false);
  });
});

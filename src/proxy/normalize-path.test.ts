import { describe, expect, it } from 'vitest';
import { normalizePath, type NormalizeOptions } from './normalize-path.js';

const strict: NormalizeOptions = { mergeSlashes: true, encodedSlashes: 'reject' };
const norm = (raw: string, options: NormalizeOptions = strict) => normalizePath(raw, options);

describe('normalizePath', () => {
  it.each([
    ['/users/42', '/users/42'],
    ['/a/./b', '/a/b'],
    ['/a/b/../c', '/a/c'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['//admin', '/admin'],
    ['/a//b///c', '/a/b/c'],
    ['/%61dmin', '/admin'],
    ['/%2e%2e/admin', '/admin'],
    ['/public/%2E%2E/admin', '/admin'],
    ['/a%7eb', '/a~b'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/with%20space', '/with%20space'],
    ['/file.json', '/file.json'],
  ])('normalises %s to %s', (raw, expected) => {
    expect(norm(raw)).toEqual({ ok: true, path: expected });
  });

  it('keeps repeated slashes when merging is off', () => {
    expect(norm('/a//b', { mergeSlashes: false, encodedSlashes: 'reject' })).toEqual({ ok: true, path: '/a//b' });
  });

  it.each([
    ['/a%2Fb', 'encoded slash in path'],
    ['/a%2fb', 'encoded slash in path'],
    ['/a%00b', 'encoded NUL in path'],
    ['/a%zz', 'invalid percent-encoding'],
    ['/a%4', 'invalid percent-encoding'],
    ['/a\\..\\admin', 'backslash in path'],
    ['/a%5c..%5cadmin', 'encoded backslash in path'],
    ['/a"b', 'invalid character in path'],
    ['/a<script>', 'invalid character in path'],
    ['admin', 'path must start with /'],
  ])('refuses %s (%s)', (raw, reason) => {
    expect(norm(raw)).toEqual({ ok: false, reason });
  });

  it('keeps or decodes an encoded slash when configured', () => {
    expect(norm('/a%2fb', { mergeSlashes: true, encodedSlashes: 'keep' })).toEqual({ ok: true, path: '/a%2Fb' });
    expect(norm('/a%2fb', { mergeSlashes: true, encodedSlashes: 'decode' })).toEqual({ ok: true, path: '/a/b' });
  });

  it('cannot be made to climb above the root by decoding after dot removal', () => {
    // %252e is a literal "%2e" after one decode; it must stay encoded, not become "..".
    expect(norm('/a/%252e%252e/admin')).toEqual({ ok: true, path: '/a/%252e%252e/admin' });
  });
});

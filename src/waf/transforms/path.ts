/**
 * normalizePath: collapses `//`, drops `.` segments and resolves `..` against the previous
 * segment; a `..` with nothing left to climb stays, as in ModSecurity. A trailing slash is kept.
 */
export function normalizePath(s: string): string {
  // A single segment other than `.` comes back as it is.
  if (s === '' || (!s.includes('/') && s !== '.')) return s;
  const absolute = s.startsWith('/');
  const trailing = s.endsWith('/') || s.endsWith('/.') || s.endsWith('/..');
  const out: string[] = [];
  for (const segment of s.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(segment);
  }
  let result = (absolute ? '/' : '') + out.join('/');
  if (trailing && out.length > 0) result += '/';
  return result;
}

/** normalizePathWin: backslashes are separators too. */
export function normalizePathWin(s: string): string {
  return normalizePath(s.includes('\\') ? s.replace(/\\/g, '/') : s);
}

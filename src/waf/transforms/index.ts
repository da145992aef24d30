import type { Transform } from '../types.js';
import * as basic from './basic.js';
import * as decode from './decode.js';
import { normalizePath, normalizePathWin } from './path.js';

/** Every transformation by its lower-cased SecLang name (`t:urlDecodeUni`). */
const TRANSFORMS: Record<string, Transform> = {
  lowercase: basic.lowercase,
  uppercase: (s) => s.replace(/[a-z]+/g, (m) => m.toUpperCase()),
  compresswhitespace: basic.compressWhitespace,
  removewhitespace: basic.removeWhitespace,
  removenulls: basic.removeNulls,
  replacenulls: (s) => s.replace(/\0/g, ' '),
  replacecomments: basic.replaceComments,
  removecommentschar: basic.removeCommentsChar,
  removecomments: (s) => basic.replaceComments(s).replace(/ $/, ''),
  cmdline: basic.cmdLine,
  trim: basic.trim,
  trimleft: (s) => s.replace(/^[\t\n\v\f\r ]+/, ''),
  trimright: (s) => s.replace(/[\t\n\v\f\r ]+$/, ''),
  length: basic.length,
  sha1: basic.sha1,
  md5: basic.md5,
  hexencode: basic.hexEncode,
  hexdecode: basic.hexDecode,
  base64decode: basic.base64Decode,
  base64decodeext: basic.base64DecodeExt,
  base64encode: (s) => Buffer.from(s, 'latin1').toString('base64'),
  urlencode: basic.urlEncode,
  urldecode: decode.urlDecode,
  urldecodeuni: decode.urlDecodeUni,
  htmlentitydecode: decode.htmlEntityDecode,
  jsdecode: decode.jsDecode,
  cssdecode: decode.cssDecode,
  escapeseqdecode: decode.escapeSeqDecode,
  utf8tounicode: decode.utf8toUnicode,
  normalizepath: normalizePath,
  normalisepath: normalizePath,
  normalizepathwin: normalizePathWin,
  normalisepathwin: normalizePathWin,
  // Not a transformation of the value: ModSecurity uses it to mark a rule as alerting only.
  alert: (s) => s,
};

/** The transformation named, or undefined when SecLang has no such name. */
export function lookupTransform(name: string): Transform | undefined {
  return TRANSFORMS[name.toLowerCase()];
}
